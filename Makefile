# Banli: `make run` starts the embedded system with demo data; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install lock browser office run stack test test-fast bench bench-large kafka kafka-stop kafka-fetch clean help

help:
	@echo "make run    install into .venv and start the embedded system with demo data"
	@echo "make stack  the distributed deployment on this machine: a Kafka broker, the topics, the"
	@echo "            three services and demo data; prints the page's URL, Ctrl-C stops it all"
	@echo "make test   install and run the whole test suite (starts a real Kafka broker)"
	@echo "make kafka  start a Kafka broker on 127.0.0.1:9092 for development"
	@echo "make keycloak  start the development identity provider (Keycloak, realm banli) on"
	@echo "               127.0.0.1:8080 and print how to sign in as each role, filers included"
	@echo "               (make keycloak-stop stops it; README, Security: signing in)"
	@echo "make s3proxy  start an S3-compatible server on 127.0.0.1:9000 (letters in S3)"
	@echo "make bench  benchmarks, each figure beside a baseline (bench/README.md); make bench-large"

# Every Python dependency, pinned in requirements.lock (`make lock` writes it from pyproject.toml).
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# After changing the dependencies in pyproject.toml: pin them again (uv's resolver, PyPI).
lock:
	$(BIN)/python -m pip install --quiet 'uv>=0.5'
	$(BIN)/uv pip compile pyproject.toml --extra test --extra bench --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu -o requirements.lock --quiet

# The oversight page's charting library (Apache ECharts), from the npm registry: served locally.
WEB     := services/reporting/web
ECHARTS := $(WEB)/node_modules/echarts/dist/echarts.min.js

$(ECHARTS): $(WEB)/package.json $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP) $(ECHARTS)

# The page's browser tests drive Debian's Chromium; screenshots need a CJK font.
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || { \
	  echo "installing Debian's chromium and fonts-noto-cjk (apt-get, needs root)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-noto-cjk >/dev/null; }

# The year-end documents are rendered by Debian's LibreOffice and read back from the PDF (poppler's
# pdftoppm draws their pages); Liberation Serif stands in for Times New Roman, Noto CJK for the
# official Chinese faces.
office:
	@command -v soffice >/dev/null && command -v pdftoppm >/dev/null \
	  && fc-list | grep -q "Liberation Serif" && fc-list :lang=zh | grep -q . || { \
	  echo "installing Debian's libreoffice-writer-nogui, poppler-utils and fonts (apt-get, needs root)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends libreoffice-writer-nogui poppler-utils fonts-liberation \
	    fonts-noto-cjk >/dev/null; }

run: install
	$(BIN)/banli serve --demo

# The distributed deployment on one machine (apps/stack.py): the broker from the cached jars,
# the topics, reporting (:8003, the page), handling (:8002), intake (:8001), demo data on a
# first start. Data and logs in ~/.local/share/banli-stack; KAFKA_PORT picks the broker's port.
stack: install kafka-fetch
	$(BIN)/banli stack --demo --kafka-port $(KAFKA_PORT)

# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
test: install kafka-fetch keycloak-fetch s3proxy-fetch browser office
	$(BIN)/python -m pytest -n 2 --dist loadfile tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests ran" >&2; exit 1; fi; exit $$rc

test-fast: install
	$(BIN)/python -m pytest tests -m "not slow and not kafka and not browser and not s3 and not office"

# Benchmarks measure, never assert: not part of `make test`. BENCH_ARGS passes flags on.
bench: install kafka-fetch
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-large: install kafka-fetch
	$(BIN)/python -m bench --large $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis artifacts

include deploy/kafka/kafka.mk
include deploy/keycloak/keycloak.mk
include deploy/s3proxy/s3proxy.mk
