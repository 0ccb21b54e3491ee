#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium (browser test), CJK fonts (screenshots, PDFs) and
# a headless Java 17+ for the Spark linkage test (docs/decisions/0010-spark-in-the-suite.md).
# Installs only what is missing; needs root, as on this project's machines.
set -euo pipefail

# Major version of the java pyspark would start ($JAVA_HOME first), 0 when there is none.
java_major() {
  local java="java"
  [ -n "${JAVA_HOME:-}" ] && java="$JAVA_HOME/bin/java"
  command -v "$java" >/dev/null 2>&1 || { echo 0; return; }
  "$java" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == 1 ? v[2] : v[1]) + 0; exit }'
}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
need_jre=0
[ "$(java_major)" -ge 17 ] || need_jre=1
if [ ${#missing[@]} -eq 0 ] && [ $need_jre -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  [ $need_jre -eq 1 ] && missing+=("a Java 17+ runtime (openjdk-17-jre-headless)")
  echo "system_deps: missing ${missing[*]}; run as root or install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ $need_jre -eq 1 ]; then
  # Debian 12 has 17; later releases dropped it for 21. Either runs Spark 3.5 and 4.
  for jre in openjdk-17-jre-headless openjdk-21-jre-headless; do
    if apt-cache policy "$jre" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      missing+=("$jre")
      break
    fi
  done
  if [ "${jre:-}" = "" ] || [ "${missing[${#missing[@]}-1]:-}" != "$jre" ]; then
    echo "system_deps: no openjdk-17/21-jre-headless in the apt sources; install a Java 17+ runtime" >&2
    exit 1
  fi
  # Slim images delete man pages; the JRE's postinst fails without this directory.
  mkdir -p /usr/share/man/man1
fi
echo "system_deps: installing ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
