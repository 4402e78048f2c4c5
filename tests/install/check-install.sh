#!/bin/sh
# SPDX-License-Identifier: MIT
# check-install BUILD_DIR: `cmake --install` into a staging directory must give the
# programs, the data files, the systemd unit, the sysusers.d and tmpfiles.d entries, the default
# config and the man pages; the unit must be Type=notify with a watchdog, pass
# `systemd-analyze verify` and stay at an exposure of 1.5 or less in
# `systemd-analyze security --offline`; the shipped config must be valid.
set -eu
build=$1
stage=$(mktemp -d /tmp/cf-install-XXXXXX)
trap 'rm -rf "$stage"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$stage cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
root=$stage$prefix
for f in bin/cloudfactd bin/cloudfact-worker bin/cloudfact share/cloudfact/gazetteer.tsv \
         lib/systemd/system/cloudfactd.service lib/sysusers.d/cloudfact.conf \
         lib/tmpfiles.d/cloudfact.conf share/man/man8/cloudfactd.8.gz share/man/man1/cloudfact.1.gz; do
    [ -e "$root/$f" ] || fail "cmake --install did not install $f"
done
# the tmpfiles.d entry makes the directory the unit's StateDirectory= names
grep -q "^d /var/lib/cloudfactd 0750 cloudfact cloudfact" "$root/lib/tmpfiles.d/cloudfact.conf" ||
    fail "the tmpfiles.d entry does not make /var/lib/cloudfactd"
grep -q "^StateDirectory=cloudfactd$" "$root/lib/systemd/system/cloudfactd.service" ||
    fail "the unit's StateDirectory= is not the tmpfiles.d entry's"
conf=$(find "$stage" -name cloudfactd.conf -path '*/cloudfact/*' | head -n 1)
[ -n "$conf" ] || fail "cmake --install did not install cloudfactd.conf"
[ ! -e "$root/bin/cloudfact-worker-test" ] || fail "the test worker must not be installed"
# installing again (an upgrade from source) keeps the operator's edits
echo "log_level = debug" >>"$conf"
DESTDIR=$stage cmake --install "$build" >/dev/null
grep -q "^log_level = debug" "$conf" || fail "installing again overwrote the edited $conf"

# verify the unit as installed, with its paths pointing into the staging tree
unit=$stage/cloudfactd.service
sed "s#$prefix/#$root/#g" "$root/lib/systemd/system/cloudfactd.service" > "$unit"
grep -q "^ExecStart=$root/bin/cloudfactd --config " "$unit" || fail "unexpected ExecStart"
for line in Type=notify WatchdogSec= NotifyAccess=main ExecReload= Restart=on-failure \
            RestartPreventExitStatus=2 StateDirectory= RuntimeDirectory= ConfigurationDirectory=; do
    grep -q "^$line" "$unit" || fail "the unit lacks $line"
done
systemd-analyze verify --man=no "$unit" || fail "systemd-analyze verify rejects the unit"
systemd-analyze security --offline=yes --threshold=15 "$unit" >/dev/null ||
    fail "the unit's exposure is above 1.5"

# every installed program answers --help and --version (operators and packagers ask)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
for prog in cloudfactd cloudfact-worker cloudfact; do
    "$root/bin/$prog" --help >/dev/null || fail "$prog --help exits $?"
    got=$("$root/bin/$prog" --version) || fail "$prog --version exits $?"
    [ "$got" = "$prog $version" ] || fail "$prog --version says '$got', not '$prog $version'"
done

# the shipped configuration is valid as shipped
"$root/bin/cloudfactd" --config "$conf" --check-config >/dev/null ||
    fail "cloudfactd --check-config rejects the shipped $conf"
echo "install: ok (unit verified, exposure <= 1.5, default config valid)"
