#!/usr/bin/env bash
# Install the Debian packages gongwen needs, only those missing.
#   scripts/system-deps.sh            tesseract with its Simplified Chinese model, LibreOffice's Writer
#                                     without a GUI (.doc and .wps are converted with it), venv support
#   scripts/system-deps.sh fonts      + the CJK fonts `make fixtures` renders with
#   scripts/system-deps.sh test       + the fonts and the headless Chromium the tests drive
# Uses apt-get as root, sudo apt-get otherwise, and says what to run when neither works.
set -euo pipefail

# tesseract-ocr-eng: the Latin re-read of e-mail addresses and numbers on scans (pipeline/reading/latin.py)
packages=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng graphviz libreoffice-writer-nogui)
case "${1:-}" in
  fonts) packages+=(fonts-noto-cjk fonts-arphic-uming fonts-arphic-ukai) ;;
  test) packages+=(fonts-noto-cjk fonts-arphic-uming fonts-arphic-ukai chromium chromium-driver) ;;
esac
# Debian's python3 ships without venv/ensurepip; pyenv or upstream builds have them.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  packages+=(python3-venv python3-pip)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "gongwen needs these packages and this is not a Debian system: ${missing[*]}" >&2
  echo "install tesseract 5 with its chi_sim language by your system's means, then rerun" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "gongwen needs Debian packages it cannot install without root: ${missing[*]}" >&2
  echo "run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
