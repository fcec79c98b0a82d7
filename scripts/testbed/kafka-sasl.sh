#!/usr/bin/env bash
# The bench broker with authentication: SASL_SSL, SCRAM-SHA-512, ACLs (StandardAuthorizer).
# Same commands as kafka.sh (start|stop|status|restart|jars|java); see KAFKA_SASL=1 there.
KAFKA_SASL=1 exec "$(dirname "${BASH_SOURCE[0]}")/kafka.sh" "$@"
