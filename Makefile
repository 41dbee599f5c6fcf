# The two commands of the README:
#   make cloud   bring the whole cloud up on this machine (background) and wait until it answers
#   make test    run every test
# Both install what they need first, idempotently.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export EUCALYPTUS_HOME ?= $(CURDIR)/var
export EUCALYPTUS_CONF ?= $(CURDIR)/conf/eucalyptus.conf
RUN := $(EUCALYPTUS_HOME)/run
LOG := $(EUCALYPTUS_HOME)/log
COMPONENTS := clc walrus sc cc nc

# Debian packages the project needs; installed only when missing.
# The NC: libvirt and qemu (TCG), libvirt-python's build (gcc, python3-dev,
# libvirt-dev); the test image: kmod (depmod), e2fsprogs (mke2fs, debugfs),
# busybox-static; bundles: openssl (the compatibility test); the SC: tgt
# (tgtd, tgtadm), lvm2, qemu-block-extra (qemu's iSCSI initiator, for the
# NC and the export tests), btrfs-progs (the reflink snapshot tests);
# postgresql (the cloud database when DATABASE_URL names it, and the
# persistence tests, which run against SQLite and PostgreSQL).
DEBS := pkg-config libxmlsec1-dev libxmlsec1-openssl \
	gcc python3-dev libvirt-daemon-system libvirt-clients libvirt-dev qemu-system-x86 qemu-utils \
	busybox-static e2fsprogs kmod openssl tgt lvm2 qemu-block-extra btrfs-progs postgresql
LIBVIRT_URI := qemu:///system

.PHONY: cloud stop test deps venv init status clean-var hypervisor test-image iscsi-target postgres

deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    -o Dpkg::Options::=--force-confold $$missing >/dev/null; \
	fi

$(BIN)/.installed: setup.py | deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

venv: deps $(BIN)/.installed

init: venv
	$(BIN)/euca-admin init

# virtlogd, then libvirtd, each started unless its pidfile names a live
# process of that name; then wait (30 s at most) until libvirt answers.
hypervisor: deps
	@for d in virtlogd libvirtd; do \
	  pid=$$(cat /run/$$d.pid 2>/dev/null); \
	  if [ -n "$$pid" ] && [ "$$(cat /proc/$$pid/comm 2>/dev/null)" = $$d ]; then continue; fi; \
	  echo "starting $$d"; $$d -d || exit 1; \
	done
	@for i in $$(seq 60); do virsh -c $(LIBVIRT_URI) version >/dev/null 2>&1 && exit 0; sleep 0.5; done; \
	echo "libvirtd does not answer on $(LIBVIRT_URI) after 30 s: see /var/log/libvirt/ and 'virsh -c $(LIBVIRT_URI) version'" >&2; \
	exit 1

# tgtd, the iSCSI target the SC exports volumes with (on all addresses,
# port 3260, control port 0), started unless one answers on that control
# port; it keeps its targets when the SC restarts.  Then wait (30 s at
# most) until it answers.
iscsi-target: deps
	@tgtadm --op show --mode sys >/dev/null 2>&1 || { echo "starting tgtd"; tgtd || exit 1; }
	@for i in $$(seq 60); do tgtadm --op show --mode sys >/dev/null 2>&1 && exit 0; sleep 0.5; done; \
	echo "tgtd does not answer: see 'tgtadm --op show --mode sys'" >&2; \
	exit 1

# PostgreSQL, Debian 12's (15), cluster 15/main on port 5432: made if
# missing, started with pg_ctlcluster unless pg_isready answers, then wait
# (30 s at most) until it does.  Then the role and the database
# "eucalyptus", made if missing; the role logs in with password
# "eucalyptus" over TCP on 127.0.0.1 (Debian's cluster listens on localhost
# only and asks a password there, whichever Unix user connects), and may
# create databases (the tests make one per test).  The cloud uses it with
# DATABASE_URL="postgresql://eucalyptus:eucalyptus@127.0.0.1/eucalyptus".
PG_VERSION := 15
PG_CLUSTER := $(PG_VERSION) main
PG_ROLE := eucalyptus
PG_PASSWORD := eucalyptus
PSQL := cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres

postgres: deps
	@pg_lsclusters -h | grep -q '^$(PG_VERSION) main ' || pg_createcluster $(PG_CLUSTER) >/dev/null
	@install -d -o postgres -g postgres -m 2775 /var/run/postgresql
	@pg_isready -q || { echo "starting PostgreSQL $(PG_VERSION)/main"; pg_ctlcluster $(PG_CLUSTER) start || exit 1; }
	@for i in $$(seq 60); do pg_isready -q && exit 0; sleep 0.5; done; \
	echo "PostgreSQL does not answer after 30 s: see /var/log/postgresql/ and 'pg_lsclusters'" >&2; \
	exit 1
	@printf '%s\n' \
	  "SELECT 'CREATE ROLE $(PG_ROLE)' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$(PG_ROLE)') \gexec" \
	  "ALTER ROLE $(PG_ROLE) LOGIN CREATEDB PASSWORD '$(PG_PASSWORD)';" \
	  "SELECT 'CREATE DATABASE $(PG_ROLE) OWNER $(PG_ROLE)' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$(PG_ROLE)') \gexec" \
	| { $(PSQL); } >/dev/null

# The offline test image (kernel, busybox initramfs, root file system);
# rebuilt only when out of date, packages downloaded once into the cache.
test-image: venv
	$(BIN)/python -m eucalyptus.testimage $(EUCALYPTUS_HOME)/images/test --cache $(EUCALYPTUS_HOME)/images/cache

cloud: init hypervisor
	@mkdir -p $(RUN) $(LOG)
	@for c in $(COMPONENTS); do \
	  pid=$(RUN)/$$c.pid; \
	  if [ -f $$pid ] && kill -0 $$(cat $$pid) 2>/dev/null; then echo "euca-$$c already running"; continue; fi; \
	  rm -f $$pid; \
	  $(BIN)/twistd --pidfile $$pid --logfile $(LOG)/$$c.log euca-$$c && echo "started euca-$$c"; \
	done
	$(BIN)/euca-admin status --wait 60
	@echo
	@echo "The cloud is up. Credentials: source $(EUCALYPTUS_HOME)/credentials/admin/eucarc"
	@echo "Stop it with: make stop"

stop:
	@for c in $(COMPONENTS); do \
	  pid=$(RUN)/$$c.pid; \
	  [ -f $$pid ] || continue; \
	  p=$$(cat $$pid); \
	  if kill -TERM $$p 2>/dev/null; then \
	    for i in $$(seq 100); do kill -0 $$p 2>/dev/null || break; sleep 0.1; done; \
	    echo "stopped euca-$$c"; \
	  fi; \
	  rm -f $$pid; \
	done

status: venv
	$(BIN)/euca-admin status

test: venv hypervisor test-image postgres
	$(BIN)/python -m twisted.trial --temp-directory=$(CURDIR)/_trial_temp tests
