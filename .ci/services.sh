#!/usr/bin/env bash
# Make sure the services the tests use are installed and running on 127.0.0.1:
# PostgreSQL (5432), MariaDB (3306), RabbitMQ (5672), plus what driver tests start themselves
# (slapd, Swift, Open vSwitch). Machines of this project's kind
# start them at boot; this starts whichever has stopped and installs whichever is absent.
set -euo pipefail

up() { timeout 2 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }
wait_up() { for _ in $(seq 1 60); do up "$1" && return 0; sleep 1; done; echo "port $1 did not open" >&2; return 1; }

missing=()
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
[ -x /usr/sbin/slapd ] || missing+=(slapd)          # the stratus-ldap tests start their own slapd
command -v ldapsearch >/dev/null || missing+=(ldap-utils)
# the stratus-swift tests start their own Swift (and memcached for its tokens); keystonemiddleware
# lets one of them make that Swift trust Stratus's tokens
for pkg in swift-proxy swift-account swift-container swift-object memcached python3-keystonemiddleware; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# the stratus-ovs tests start their own ovsdb-server + ovs-vswitchd (userspace datapath) and build
# hosts, DHCP servers and routers out of network namespaces
for pkg in openvswitch-switch dnsmasq-base iproute2 iptables ethtool busybox; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# volumes from qcow2 (and other non-raw) images are converted with qemu-img
dpkg -s qemu-utils >/dev/null 2>&1 || missing+=(qemu-utils)
# the stratus-libvirt tests start their own libvirtd (QEMU guests, emulated where KVM cannot run them),
# build libvirt-python against libvirt-dev, build a bootable guest disk (sfdisk, mkfs.fat, mtools,
# syslinux, cpio) and config drives (genisoimage), and check domain XML against libvirt's schema
# (virt-xml-validate needs xmllint); the console proxy serves Debian's noVNC. Installed without recommendations: nothing starts a system daemon.
virt_missing=()
for pkg in libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config qemu-system-x86 \
           qemu-block-extra seabios ipxe-qemu mtools syslinux syslinux-common dosfstools fdisk cpio genisoimage \
           libxml2-utils novnc; do
  dpkg -s "$pkg" >/dev/null 2>&1 || virt_missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ] || [ ${#virt_missing[@]} -gt 0 ]; then
  apt-get update -qq
fi
if [ ${#virt_missing[@]} -gt 0 ]; then
  echo "installing ${virt_missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${virt_missing[@]}" >/dev/null
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  # packages must not start system daemons here (slapd would take port 389): policy-rc.d says no
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

if ! up 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  wait_up 5432
fi
if ! up 3306; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_up 3306
fi
if ! up 5672; then
  rabbitmq-server -detached
  wait_up 5672
fi

# the tests connect as these users (trust auth / empty password on this machine kind)
psql -h 127.0.0.1 -U postgres -d postgres -qc 'select 1' >/dev/null
mariadb -uroot -h127.0.0.1 -e 'select 1' >/dev/null
echo "PostgreSQL, MariaDB and RabbitMQ are up"
