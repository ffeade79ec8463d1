"""Tissue motion measured from the pixels, in crops stabilised by landmarks."""
