# Dev Kafka broker (Apache Kafka 4.x, KRaft, single node) from Maven Central jars.
# Include from the main Makefile:  include deploy/kafka/kafka.mk
#   make kafka         start on 127.0.0.1:9092 (controller 9093), keeping data
#                      in $${BANLI_KAFKA_HOME:-~/.cache/banli/kafka}/run-9092
#   make kafka-stop    stop it
#   make kafka-status  is it running?
#   make kafka-fetch   download the jars only (cached; later runs are offline)
# KAFKA_PORT=... picks another port (controller on KAFKA_PORT+1).

KAFKA_BROKER_SH := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/broker.sh
KAFKA_PORT ?= 9092

.PHONY: kafka kafka-stop kafka-status kafka-fetch

kafka:
	@bash "$(KAFKA_BROKER_SH)" start --port $(KAFKA_PORT) --keep

kafka-stop:
	@bash "$(KAFKA_BROKER_SH)" stop --port $(KAFKA_PORT)

kafka-status:
	@bash "$(KAFKA_BROKER_SH)" status --port $(KAFKA_PORT) || true

kafka-fetch:
	@bash "$(KAFKA_BROKER_SH)" fetch
