"""Virtual patients with known truth (2-D and 3-D phantoms, chimeras of real clips) and the validation built on them."""
