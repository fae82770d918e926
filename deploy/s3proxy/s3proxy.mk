# Dev S3-compatible server (s3proxy, filesystem backend) from Maven Central jars, for reply
# letters kept in S3 (BANLI_LETTERS_S3_*). Include from the main Makefile:
#   include deploy/s3proxy/s3proxy.mk
#   make s3proxy         start on 127.0.0.1:9000, keeping its buckets in
#                        $${BANLI_S3PROXY_HOME:-~/.cache/banli/s3proxy}/run-9000
#   make s3proxy-stop    stop it
#   make s3proxy-status  is it running?
#   make s3proxy-fetch   download the jars only (cached; later runs are offline)
# S3PROXY_PORT=... picks another port. Dev credentials: banli-dev / banli-dev-secret.

S3PROXY_SH := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/s3proxy.sh
S3PROXY_PORT ?= 9000

.PHONY: s3proxy s3proxy-stop s3proxy-status s3proxy-fetch

s3proxy:
	@bash "$(S3PROXY_SH)" start --port $(S3PROXY_PORT) --keep

s3proxy-stop:
	@bash "$(S3PROXY_SH)" stop --port $(S3PROXY_PORT)

s3proxy-status:
	@bash "$(S3PROXY_SH)" status --port $(S3PROXY_PORT) || true

s3proxy-fetch:
	@bash "$(S3PROXY_SH)" fetch
