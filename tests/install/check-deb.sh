#!/bin/sh
# SPDX-License-Identifier: MIT
# check-deb SOURCE_DIR WORK_DIR: configure a private build with the Debian prefix
# (/usr), build it, `cpack -G DEB`, then inspect the package with dpkg-deb: the
# programs, the data files, the unit (Type=notify, ExecStart in /usr/bin), the
# sysusers.d and tmpfiles.d entries, the default config as a conffile in /etc, both
# man pages, and a postinst that creates the service user and its state directory.
# `make deb` runs it too.
set -eu
src=$1
work=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || fail "dpkg-deb is missing"
mkdir -p "$work"
cmake -S "$src" -B "$work" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DBUILD_TESTING=OFF >/dev/null
cmake --build "$work" -j2 >/dev/null
rm -f "$work"/*.deb
(cd "$work" && cpack -G DEB >/dev/null)
deb=$(ls "$work"/*.deb | head -n 1)
[ -n "$deb" ] || fail "cpack made no .deb"

contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/cloudfactd ./usr/bin/cloudfact ./usr/bin/cloudfact-worker \
         ./usr/share/cloudfact/gazetteer.tsv ./usr/lib/systemd/system/cloudfactd.service \
         ./usr/lib/sysusers.d/cloudfact.conf ./usr/lib/tmpfiles.d/cloudfact.conf \
         ./etc/cloudfact/cloudfactd.conf \
         ./usr/share/man/man8/cloudfactd.8.gz ./usr/share/man/man1/cloudfact.1.gz; do
    echo "$contents" | grep -q " $f\$" || fail "$deb lacks $f"
done
echo "$contents" | grep -q "cloudfact-worker-test" && fail "$deb ships the test worker"

info=$(dpkg-deb -I "$deb")
echo "$info" | grep -q "Package: cloudfact" || fail "package name"
echo "$info" | grep -q "Depends:.*libzmq5" || fail "no dependency on libzmq5: $info"
echo "$info" | grep -q "Depends:.*libevent-2.1-7 (>= 2.1.12-stable-8+deb12u1)" ||
    fail "libevent without Debian 12's security fixes would do: $info"
echo "$info" | grep -q "Depends:.*procps" || fail "no dependency on procps (/bin/kill): $info"
echo "$info" | grep -q "Depends:.*systemd | adduser" ||
    fail "postinst could find neither systemd-sysusers nor adduser: $info"
x=$(mktemp -d /tmp/cf-deb-XXXXXX)
trap 'rm -rf "$x"' EXIT
dpkg-deb -e "$deb" "$x/DEBIAN"
grep -qx /etc/cloudfact/cloudfactd.conf "$x/DEBIAN/conffiles" || fail "config is not a conffile"
grep -q "systemd-sysusers /usr/lib/sysusers.d/cloudfact.conf" "$x/DEBIAN/postinst" ||
    fail "postinst does not create the user"
[ -x "$x/DEBIAN/postinst" ] || fail "postinst is not executable"
sh -n "$x/DEBIAN/postinst" && sh -n "$x/DEBIAN/prerm" && sh -n "$x/DEBIAN/postrm" ||
    fail "a maintainer script does not parse"
# The scripts' systemd calls, with systemctl and systemd-sysusers stand-ins that log
# them, and /run/systemd/system replaced by a directory that exists.
mkdir -p "$x/bin" "$x/systemd"
for tool in systemctl systemd-sysusers systemd-tmpfiles deb-systemd-helper deb-systemd-invoke; do
    printf '#!/bin/sh
echo "%s $*" >>"%s/calls"
' "$tool" "$x" >"$x/bin/$tool"
    chmod +x "$x/bin/$tool"
done
# deb-systemd-helper's answers: the unit was installed before (CF_DSH_KNOWN=1, a
# reinstall) or not (a first install), and enabled then (CF_DSH_ENABLED, default 1)
printf '#!/bin/sh
echo "deb-systemd-helper $*" >>"%s/calls"
case "$*" in
*debian-installed*) [ "${CF_DSH_KNOWN:-0}" = 1 ] ;;
*was-enabled*) [ "${CF_DSH_ENABLED:-1}" = 1 ] ;;
esac
' "$x" >"$x/bin/deb-systemd-helper"
mkdir -p "$x/etc-systemd"
run_script() { # SCRIPT ARG...: the calls it makes
    : >"$x/calls"
    sed "s|/run/systemd/system|$x/systemd|g; s|/etc/systemd/system|$x/etc-systemd|g" \
        "$x/DEBIAN/$1" >"$x/script"
    shift
    PATH="$x/bin:$PATH" sh "$x/script" "$@" || fail "the script failed: $*"
    cat "$x/calls"
}
calls=$(run_script postinst configure)
echo "$calls" | grep -q "systemd-sysusers" || fail "postinst configure: no user: $calls"
echo "$calls" | grep -q "systemd-tmpfiles --create /usr/lib/tmpfiles.d/cloudfact.conf" ||
    fail "postinst configure: no state directory: $calls"
echo "$calls" | grep -q "try-restart" && fail "a fresh install restarts the service: $calls"
echo "$calls" | grep -q "helper enable" && fail "a fresh install enables the service: $calls"
echo "$calls" | grep -q "deb-systemd-helper update-state cloudfactd.service" ||
    fail "postinst does not record the unit's state: $calls"
# a reinstall after a removal (which masked the unit; dpkg passes the old version)
ln -sf /dev/null "$x/etc-systemd/cloudfactd.service"
calls=$(CF_DSH_KNOWN=1 run_script postinst configure 0.0.9)
echo "$calls" | grep -q "deb-systemd-helper unmask cloudfactd.service" &&
    echo "$calls" | grep -q "deb-systemd-helper enable cloudfactd.service" &&
    echo "$calls" | grep -q "deb-systemd-invoke start cloudfactd.service" ||
    fail "a reinstall does not bring back the service enabled and running: $calls"
calls=$(CF_DSH_KNOWN=1 CF_DSH_ENABLED=0 run_script postinst configure 0.0.9)
echo "$calls" | grep -q "helper enable\|invoke start" &&
    fail "a reinstall enables or starts a service that was disabled: $calls"
rm -f "$x/etc-systemd/cloudfactd.service"
calls=$(run_script postinst configure 0.0.9)
echo "$calls" | grep -q "deb-systemd-invoke try-restart cloudfactd.service" ||
    fail "an upgrade does not restart a running service on the new programs: $calls"
calls=$(run_script prerm upgrade 0.1.1)
echo "$calls" | grep -q "stop\|disable" && fail "an upgrade stops or disables the service: $calls"
calls=$(run_script prerm remove)
echo "$calls" | grep -q "deb-systemd-invoke stop cloudfactd.service" ||
    fail "removal does not stop it (through deb-systemd-invoke): $calls"
echo "$calls" | grep -q "disable" &&
    fail "removal disables the service (a reinstall would forget it was enabled): $calls"
calls=$(run_script postrm remove)
echo "$calls" | grep -q "deb-systemd-helper mask cloudfactd.service" ||
    fail "removal leaves the unit unmasked (a link to a missing unit): $calls"
calls=$(run_script postrm purge)
echo "$calls" | grep -q "deb-systemd-helper purge cloudfactd.service" ||
    fail "a purge keeps the unit's state: $calls"
dpkg-deb -x "$deb" "$x/root"
unit=$x/root/usr/lib/systemd/system/cloudfactd.service
grep -q "^Type=notify" "$unit" || fail "unit is not Type=notify"
grep -q "^ExecStart=/usr/bin/cloudfactd --config /etc/cloudfact/cloudfactd.conf" "$unit" ||
    fail "unexpected ExecStart in the packaged unit"
gzip -t "$x/root/usr/share/man/man8/cloudfactd.8.gz" || fail "man page"
"$x/root/usr/bin/cloudfactd" --config "$x/root/etc/cloudfact/cloudfactd.conf" --check-config \
    >/dev/null || fail "the packaged config is rejected"
echo "deb: ok ($(basename "$deb"))"
