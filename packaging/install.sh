#!/bin/sh
# Installs Holdfast from this tarball on a systemd distribution that has no .deb:
#   sudo ./install.sh
# Puts the binary in /usr/bin, the unit in /etc/systemd/system, a commented
# /etc/holdfast/holdfast.toml (never over one that is there) and the man page; creates the
# holdfast system user; enables the service without starting it. DESTDIR=/some/root installs
# the files under that root instead, without touching users or systemd (for packagers).
set -eu
cd "$(dirname "$0")"
root="${DESTDIR:-}"

install -D -m 0755 holdfast "$root/usr/bin/holdfast"
install -D -m 0644 holdfast.service "$root/etc/systemd/system/holdfast.service"
install -D -m 0644 holdfast.1 "$root/usr/share/man/man1/holdfast.1"
install -D -m 0644 README.md "$root/usr/share/doc/holdfast/README.md"
if [ -e "$root/etc/holdfast/holdfast.toml" ]; then
    echo "kept the existing $root/etc/holdfast/holdfast.toml"
else
    install -D -m 0644 holdfast.toml "$root/etc/holdfast/holdfast.toml"
fi

if [ -n "$root" ]; then
    echo "installed under $root"
    exit 0
fi
if ! getent passwd holdfast > /dev/null; then
    useradd --system --user-group --home-dir /var/lib/holdfast --no-create-home \
        --shell /usr/sbin/nologin --comment "Holdfast CRM appliance" holdfast
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable holdfast.service
fi
echo "installed; start it with: systemctl start holdfast (then open http://<host>:8080/)"
