# swift-auditd: a Linux audit daemon in Swift.
#   make run    build, then run the daemon in the foreground on ./run/etc/auditd.conf (as root)
#   make test   install what the tests need, build, run every test (real-kernel ones as root), count skips
#   make build  the release binary at .build/release/swift-auditd (the Swift runtime linked in:
#               it needs no /opt/swift at run time, and its peak RSS is smaller)
#   make test-load  only the million-event full-rate load test, against the release binary
#   make fuzz   run each libFuzzer target for FUZZ_SECONDS (60)
#   make test-boot  boot a real kernel with audit=1 under qemu and check the held records reach the log
#   make test-systemd  as root: boot a debootstrapped Debian 12 under qemu with systemd as PID 1 and
#                   swift-auditd.service enabled; check the unit, the kernel's pid and the log
#   make bench  as root: floor C reader, auditd 3.0.9 and swift-auditd side by side on the real kernel,
#               then the fake-kernel replay of 1M records, then follow against ausearch on a 1 GiB log,
#               then the OTLP exporter into a local receiver (Benchmarks/; not part of make test or CI)
#   make bench-events  only follow against ausearch -i (Benchmarks/events-bench.py; no root needed)
#   make bench-otlp    only swift-auditd-otlp into a local OTLP receiver (Benchmarks/otlp-bench.py; no root)
#   make bench-remote  as root: K audisp-remote clients, then K pipelining remote-sender
#               connections, into auditd 3.0.9, into swift-auditd's remote listener alone and into
#               swift-auditd run (Benchmarks/remote-bench.py; local_events = no, no kernel involved)
#   make install    the binary, the systemd unit, the tmpfiles entry, the man pages and (only when
#                   there is none) /etc/audit/auditd.conf and swift-auditd.conf; the swift-auditd-otlp
#                   plugin with (only when there are none) its disabled plugins.d file and its
#                   configuration; DESTDIR and PREFIX as usual
#   make uninstall  removes what install put there, except /etc/audit/auditd.conf, swift-auditd.conf
#                   and the swift-auditd-otlp configuration
#   make man        regenerates man/ from the commands' help (swift-argument-parser's plugin)

SWIFT ?= swift
RUN_DIR := $(CURDIR)/run

.PHONY: all deps daemon build test test-boot test-systemd test-load fuzz run clean bench bench-events bench-otlp bench-remote bench-tools install install-files uninstall man

all: build

deps:
	@scripts/install-deps

# The release binary links the Swift standard library and runtime statically: an early-boot daemon
# should not depend on a toolchain's shared libraries (only libc, libstdc++, libaudit remain), and
# the shared libswiftCore and Foundation mapped most of its peak RSS.
RELEASE_FLAGS := -c release --static-swift-stdlib

# The daemon alone (what make run needs), then the OTLP plugin (make build, make install).
daemon: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product swift-auditd

build: daemon
	$(SWIFT) build $(RELEASE_FLAGS) --product swift-auditd-otlp

# Every test, then the count of skipped ones and their reasons (scripts/test). With
# SWIFT_AUDITD_REQUIRE_ALL=1 (.ci/run) a test that cannot run here fails instead of skipping.
test: deps
	SWIFT=$(SWIFT) scripts/test

# Boots Debian's kernel under qemu with audit=1 (and variants) and checks that the records the kernel
# held before swift-auditd started reach its log (scripts/boot-test/run.sh). About a minute under TCG.
test-boot: deps
	bash scripts/boot-test/run.sh

# Installs the release binary (make install DESTDIR=) into a debootstrapped Debian 12 (cached in
# .build/systemd/guest), enables swift-auditd.service and boots the guest's own kernel and
# initramfs under qemu with audit=1; checks the unit's state, the kernel's pid, the log's start
# and end (scripts/systemd-test/run.sh). Needs root; about 35 s under TCG once built, plus about
# 1.5-2.5 min for the first debootstrap. Not part of make test or CI.
test-systemd: deps
	bash scripts/systemd-test/run.sh

# One million getppid events at full rate with backlog_limit 8192, against the release binary:
# 0 lost, all on disk (Tests/RealKernelTests/LoadTests.swift; make test runs it too, against the
# debug binary: about 10 s each). Needs root; takes the kernel lock.
LOAD_EVENTS ?= 1000000
test-load: build
	$(SWIFT) build --build-tests
	SWIFT_AUDITD_LOAD_EVENTS=$(LOAD_EVENTS) SWIFT_AUDITD_BINARY=$(CURDIR)/.build/release/swift-auditd \
	  $(SWIFT) test --filter LoadTests

# libFuzzer targets in Fuzz/ (netlink decoder, RAW and ENRICHED line formatters, auditd.conf parser,
# the remote-logging frame decoder), each run for
# FUZZ_SECONDS (scripts/fuzz/run.sh). A crash fails the run and leaves its input in .build/fuzz/artifacts.
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz/run.sh

# Benchmarks (issues 5 and 10). The kernel benchmark runs each reader in turn on the real kernel under
# /tmp/swift-auditd-kernel.lock (Benchmarks/kernel-bench.py; it skips without root or a free daemon
# slot): first the latency case (auditd 3.0.9 and swift-auditd, 200 single audited calls), then the
# throughput cases, then both daemons with one discarding string plugin, reading and stopped
# (issue 11); it prints each missed target as NOT MET and fails when a case ends in an error.
# The replay pushes REPLAY_RECORDS datagrams through a socket pair into the daemon loop,
# counting allocations with Benchmarks/malloc-count.c preloaded.
BENCH_BIN := Benchmarks/.build
BENCH_EVENTS ?= 300000
BENCH_ROUNDS ?= 1
REPLAY_RECORDS ?= 1000000
BENCH_CC ?= cc

bench-tools: $(BENCH_BIN)/workload $(BENCH_BIN)/latency-probe $(BENCH_BIN)/floor-reader $(BENCH_BIN)/libmalloc-count.so $(BENCH_BIN)/remote-sender

$(BENCH_BIN)/workload: Benchmarks/workload.c
	@mkdir -p $(BENCH_BIN)
	$(BENCH_CC) -O2 -Wall -Wextra -o $@ $<

$(BENCH_BIN)/latency-probe: Benchmarks/latency-probe.c
	@mkdir -p $(BENCH_BIN)
	$(BENCH_CC) -O2 -Wall -Wextra -o $@ $<

$(BENCH_BIN)/floor-reader: Benchmarks/floor-reader.c
	@mkdir -p $(BENCH_BIN)
	$(BENCH_CC) -O2 -Wall -Wextra -o $@ $< -laudit

$(BENCH_BIN)/remote-sender: Benchmarks/remote-sender.c
	@mkdir -p $(BENCH_BIN)
	$(BENCH_CC) -O2 -Wall -Wextra -o $@ $<

$(BENCH_BIN)/libmalloc-count.so: Benchmarks/malloc-count.c
	@mkdir -p $(BENCH_BIN)
	$(BENCH_CC) -O2 -Wall -shared -fPIC -o $@ $<

bench: deps bench-tools
	$(SWIFT) build $(RELEASE_FLAGS) --product swift-auditd
	$(SWIFT) build $(RELEASE_FLAGS) --product swift-auditd-replay
	rm -f $(BENCH_BIN)/swift-enriched-rate
	python3 Benchmarks/kernel-bench.py --events $(BENCH_EVENTS) --rounds $(BENCH_ROUNDS) --rate-file $(BENCH_BIN)/swift-enriched-rate
	LD_PRELOAD=$(CURDIR)/$(BENCH_BIN)/libmalloc-count.so nice -n -4 .build/release/swift-auditd-replay --records $(REPLAY_RECORDS)
	python3 Benchmarks/events-bench.py --size-mib $(EVENTS_LOG_MIB)
	rate=$$(cat $(BENCH_BIN)/swift-enriched-rate 2>/dev/null); $(MAKE) bench-otlp $${rate:+OTLP_DAEMON_RATE=$$rate}

# Only follow against ausearch (issue 13): a log of EVENTS_LOG_MIB MiB made from the golden one, read
# by ausearch -i and by follow in each format; no kernel, no root (Benchmarks/events-bench.py).
EVENTS_LOG_MIB ?= 1024
bench-events: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product swift-auditd
	python3 Benchmarks/events-bench.py --size-mib $(EVENTS_LOG_MIB)

# The exporter's case alone (Benchmarks/otlp-bench.py): swift-auditd-otlp fed OTLP_BENCH_EVENTS
# recorded ENRICHED events at full rate into the local Python receiver; events/s and CPU per event,
# against swift-auditd's ENRICHED rate (OTLP_DAEMON_RATE, events/s: make bench passes the kernel
# benchmark's swift-enriched rate from the same run; alone, the default is the README's recorded figure).
OTLP_BENCH_EVENTS ?= 200000
OTLP_DAEMON_RATE ?=
bench-otlp: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product swift-auditd-otlp
	python3 Benchmarks/otlp-bench.py --events $(OTLP_BENCH_EVENTS) $(if $(OTLP_DAEMON_RATE),--daemon-rate $(OTLP_DAEMON_RATE))

# Remote logging (issue 12): for each count of clients in REMOTE_CLIENTS, REMOTE_RECORDS records
# from Debian's audisp-remote clients (one record per ACK) and REMOTE_SENDER_RECORDS from
# Benchmarks/remote-sender.c (the same protocol, REMOTE_WINDOW frames unanswered per connection)
# into Debian's auditd (local_events = no), the listener alone (swift-auditd-remote-sink: write,
# then ACK) and swift-auditd run. Records/s, the server's CPU per record, records lost, and the
# ratios against the issue's target.
REMOTE_RECORDS ?= 50000
REMOTE_SENDER_RECORDS ?= 500000
REMOTE_WINDOW ?= 64
REMOTE_CLIENTS ?= 1 4
bench-remote: deps $(BENCH_BIN)/libmalloc-count.so $(BENCH_BIN)/remote-sender
	$(SWIFT) build $(RELEASE_FLAGS) --product swift-auditd-remote-sink
	$(SWIFT) build $(RELEASE_FLAGS) --product swift-auditd
	python3 Benchmarks/remote-bench.py --records $(REMOTE_RECORDS) --sender-records $(REMOTE_SENDER_RECORDS) \
		--window $(REMOTE_WINDOW) --clients $(REMOTE_CLIENTS)

# Where make install puts things. PREFIX=/usr for a system install (the unit names /usr/sbin);
# DESTDIR stages the whole tree elsewhere (packaging, tests).
PREFIX ?= /usr
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
BINARY ?= .build/release/swift-auditd
OTLP_BINARY ?= $(dir $(BINARY))swift-auditd-otlp
INSTALLED_MAN_PAGES := swift-auditd.8 swift-auditd.run.8 swift-auditd.status.8 swift-auditd.rotate.8 \
	swift-auditd.reload.8 swift-auditd.resume.8 swift-auditd.stop.8 swift-auditd.follow.8

install: build
	$(MAKE) install-files

# What install lays out, from what is already built (BINARY): no build, so a test can stage it.
install-files:
	install -D -m 0755 $(BINARY) $(DESTDIR)$(SBINDIR)/swift-auditd
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|/usr/sbin/swift-auditd|$(SBINDIR)/swift-auditd|g' systemd/swift-auditd.service > $(DESTDIR)$(UNITDIR)/swift-auditd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/swift-auditd.service
	install -D -m 0644 systemd/swift-auditd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/swift-auditd.conf
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man8
	cd man && install -m 0644 $(INSTALLED_MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/audit
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/audit/auditd.conf ]; then \
	  echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/audit/auditd.conf"; \
	else \
	  install -m 0640 config/auditd.conf $(DESTDIR)$(SYSCONFDIR)/audit/auditd.conf; \
	fi
	install -D -m 0755 $(OTLP_BINARY) $(DESTDIR)$(SBINDIR)/swift-auditd-otlp
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/audit/plugins.d
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/audit/plugins.d/swift-auditd-otlp.conf ]; then \
	  echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/audit/plugins.d/swift-auditd-otlp.conf"; \
	else \
	  sed -e 's|/usr/sbin/swift-auditd-otlp|$(SBINDIR)/swift-auditd-otlp|' -e 's|/etc/audit/|$(SYSCONFDIR)/audit/|' \
	    config/plugins.d/swift-auditd-otlp.conf > $(DESTDIR)$(SYSCONFDIR)/audit/plugins.d/swift-auditd-otlp.conf; \
	  chmod 0640 $(DESTDIR)$(SYSCONFDIR)/audit/plugins.d/swift-auditd-otlp.conf; \
	fi
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/audit/swift-auditd-otlp.conf ]; then \
	  echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/audit/swift-auditd-otlp.conf"; \
	else \
	  install -m 0640 config/swift-auditd-otlp.conf $(DESTDIR)$(SYSCONFDIR)/audit/swift-auditd-otlp.conf; \
	fi
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/audit/swift-auditd.conf ]; then \
	  echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/audit/swift-auditd.conf"; \
	else \
	  install -m 0640 config/swift-auditd.conf $(DESTDIR)$(SYSCONFDIR)/audit/swift-auditd.conf; \
	fi
	@echo "installed; as root: systemd-tmpfiles --create swift-auditd.conf && systemctl daemon-reload && systemctl enable --now swift-auditd"

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/swift-auditd $(DESTDIR)$(SBINDIR)/swift-auditd-otlp $(DESTDIR)$(UNITDIR)/swift-auditd.service \
	  $(DESTDIR)$(TMPFILESDIR)/swift-auditd.conf
	cd $(DESTDIR)$(MANDIR)/man8 2>/dev/null && rm -f $(INSTALLED_MAN_PAGES) || true
	@echo "left $(DESTDIR)$(SYSCONFDIR)/audit/auditd.conf, swift-auditd.conf, the swift-auditd-otlp configuration and the logs in place"

# The man pages, one per command, made from the same text as --help.
man:
	@mkdir -p man
	$(SWIFT) package --allow-writing-to-directory man generate-manual --multi-page --section 8 \
	  --date $$(git log -1 --format=%cs) -o man
	rm -f man/swift-auditd.help.8
	sed -i '/^\.Xr swift-auditd\.help 8 ,$$/d' man/swift-auditd.8

# A local default configuration: the log goes under the working tree, not /var/log/audit.
$(RUN_DIR)/etc/auditd.conf:
	@mkdir -p $(RUN_DIR)/etc
	@printf '%s\n' \
	  '# swift-auditd local configuration, made by make run (auditd.conf syntax; Debian'"'"'s values)' \
	  'log_file = $(RUN_DIR)/log/audit.log' \
	  'log_format = ENRICHED' \
	  'flush = INCREMENTAL_ASYNC' \
	  'freq = 50' \
	  'max_log_file = 8' \
	  'num_logs = 5' \
	  'max_log_file_action = ROTATE' \
	  'space_left = 75' \
	  'space_left_action = SYSLOG' \
	  'admin_space_left = 50' \
	  'admin_space_left_action = SUSPEND' \
	  'disk_full_action = SUSPEND' \
	  'disk_error_action = SUSPEND' > $@
	@chmod 0640 $@
	@echo "made $@"

run: daemon $(RUN_DIR)/etc/auditd.conf
	.build/release/swift-auditd run -c $(RUN_DIR)/etc

clean:
	rm -rf .build run
