# Source this (bash) to get what the end-to-end tests need on a Debian machine:
# Chromium (the fake-camera browser), PostgreSQL running with a `facecoach` role,
# and FACECOACH_TEST_POSTGRES_URL exported. Safe to source again: it installs and
# starts only what is missing. Installing needs root; otherwise it only checks.
#
#   source scripts/e2e_services.sh && python -m pytest tests/e2e

_fc_e2e_setup() {
    # The fonts make screenshots show what a person sees (the app's page icons are emoji).
    local packages=(chromium fonts-liberation fonts-noto-color-emoji postgresql)
    local missing=() p
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
            echo "e2e_services: missing ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
            return 1
        fi
        echo "e2e_services: installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" || return 1
    fi

    # Debian creates one cluster with the server package; start it if it is down.
    local version cluster status
    read -r version cluster _ status _ < <(pg_lsclusters --no-header | head -n 1)
    if [[ -z $version ]]; then
        echo "e2e_services: no PostgreSQL cluster (pg_lsclusters is empty)" >&2
        return 1
    fi
    if [[ $status != online* ]]; then
        if [[ $(id -u) -ne 0 ]]; then
            echo "e2e_services: PostgreSQL $version/$cluster is $status; start it as root" >&2
            return 1
        fi
        pg_ctlcluster "$version" "$cluster" start || return 1
    fi
    local i
    for i in $(seq 30); do
        pg_isready -q -h localhost -p 5432 && break
        sleep 1
    done
    pg_isready -h localhost -p 5432 >/dev/null || { echo "e2e_services: PostgreSQL does not answer" >&2; return 1; }

    if [[ $(id -u) -eq 0 ]]; then
        # CREATEDB: each test gets a fresh database of its own.
        runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL' || return 1
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'facecoach') THEN
        CREATE ROLE facecoach LOGIN CREATEDB PASSWORD 'facecoach';
    ELSE
        ALTER ROLE facecoach LOGIN CREATEDB PASSWORD 'facecoach';
    END IF;
END
$$;
SQL
    fi
    export FACECOACH_TEST_POSTGRES_URL="postgresql+psycopg://facecoach:facecoach@localhost:5432/postgres"
    echo "e2e_services: Chromium $(chromium --version 2>/dev/null | awk '{print $2}'), PostgreSQL $version/$cluster online"
}

_fc_e2e_setup
