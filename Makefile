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
DEBS := pkg-config libxmlsec1-dev libxmlsec1-openssl

.PHONY: cloud stop test deps venv init status clean-var

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

cloud: init
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

test: venv
	$(BIN)/python -m twisted.trial --temp-directory=$(CURDIR)/_trial_temp tests
