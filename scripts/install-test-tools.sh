#!/usr/bin/env bash
# Install what the deploy tests (tests/deploy) need beyond the project venv. Idempotent.
#
#   Debian packages: postgresql (15), openssl (its test certificate), prometheus (+ promtool),
#                    prometheus-pushgateway, shellcheck (actionlint checks `run:` scripts with it),
#                    chromium (the annotation page's browser tests); installed only when missing.
#   Tool venvs:      .tools/checkov and .tools/dvc, each from its pinned scripts/tools/*.txt.
#                    They are kept out of .venv on purpose (DESIGN.md section 4: dvc's antlr4 pin
#                    breaks Dagster asset selections; checkov pins conflict with the project).
#
# Usage: scripts/install-test-tools.sh            (uv on PATH)
#        UV="python3 -m uv" scripts/install-test-tools.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV=${UV:-uv}
TOOLS_PYTHON=${TOOLS_PYTHON:-3.11}
APT_PACKAGES=(postgresql openssl prometheus prometheus-pushgateway shellcheck)
# VOCALBABY_CHROMIUM names another Chromium-based browser for the tests (e.g. a CI runner's).
if [[ ! -x ${VOCALBABY_CHROMIUM:-} ]]; then
    APT_PACKAGES+=(chromium)
fi

install_apt_packages() {
    local missing=()
    for package in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    if ((${#missing[@]} == 0)); then
        echo "== apt packages present: ${APT_PACKAGES[*]}"
        return
    fi
    local sudo=()
    if ((EUID != 0)); then
        sudo=(sudo)
    fi
    echo "== apt-get install ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# install_tool NAME: .tools/NAME from scripts/tools/NAME.txt, rebuilt only when that file changes.
install_tool() {
    local name=$1
    local requirements="scripts/tools/$name.txt" venv=".tools/$name"
    local stamp="$venv/.requirements.txt"
    if [[ -f $stamp ]] && cmp -s "$requirements" "$stamp"; then
        echo "== $venv is up to date"
        return
    fi
    echo "== $venv from $requirements"
    rm -rf "$venv"
    $UV venv --quiet --python "$TOOLS_PYTHON" "$venv"
    $UV pip sync --quiet --python "$venv/bin/python" "$requirements"
    cp "$requirements" "$stamp"
}

install_apt_packages
install_tool checkov
install_tool dvc
echo "== test tools ready: .tools/checkov/bin/checkov, .tools/dvc/bin/dvc"
