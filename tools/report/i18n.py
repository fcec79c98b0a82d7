"""The words the generator puts around the figures, per language. The prose is in templates/;
these are only table headings, units and the generated verdict sentences, so both documents say
the same thing about the same numbers."""

T = {
    "es": {
        "variant": "variante", "runs": "corridas", "rps": "ventas aceptadas/s", "ratio": "× referencia",
        "p50": "p50 ms", "p95": "p95 ms", "p99": "p99 ms", "fail": "fallos", "drain": "drenaje s",
        "lag_max": "lag máx. (registros)", "valkey_cpu": "CPU del primario Valkey s", "repl_behind": "bytes de replicación pendientes al final",
        "split": "llamadas OK por proceso escritor (mediana)", "median_note": "mediana (mín–máx) de {n} corridas",
        "users": "{u} usuarios", "replicas": "{r} réplicas", "replica1": "1 réplica",
        "rest": "REST (rust-api → grpc-client → escritores)", "grpc": "gRPC (rust-api → escritores)",
        "grpc-server-1-x1": "grpc-server-1 (1 proceso)", "grpc-server-2-x2": "grpc-server-2 (2 procesos)",
        "both-x3": "ambos (3 procesos)",
        "v_better": "**diferencia**: los rangos mín–máx no se solapan ({what}: {dir})",
        "v_worse": "**diferencia**: los rangos mín–máx no se solapan ({what}: {dir})",
        "v_noise": "**dentro del ruido**: los rangos mín–máx se solapan; estas corridas no distinguen las variantes",
        "v_few": "**sin conclusión**: menos de 2 corridas por variante, no hay dispersión con qué juzgar",
        "higher": "mayor", "lower": "menor",
        "m_rps": "ventas/s", "m_p95": "latencia p95",
        "verdict_line": "- {variant} frente a {ref}, {metric}: mediana {a} → {b} ({ratio}); {verdict}.",
        "not_measured": "**aún no medido** (no existe `{path}`)",
        "never_cloud": "**nunca ejecutado en una nube** (no existe `{path}`).",
        "none": "—",
        "machine": ("Condiciones: {n} corridas entre {first} y {last} (UTC), commit {commits}; CPU {cpu}, {cores} núcleos; "
                    "carga de la máquina durante las corridas: CPU ocupada (todos los procesos) mediana {busy} % "
                    "(mín–máx {busy_min}–{busy_max} %), load average 1 min al inicio mediana {load}; "
                    "duración de cada corrida {dur}."),
        "conditions": "Nota de quien midió: {c}",
        "no_results": "**Aún no medido**: no hay archivos de resultados en `{path}`; ejecute `scripts/report --measure`.",
        "fig": "Figura",
        "writer_kind": {"writer": "grpc-server (nuestro escritor: franz-go, Produce + promesa, idempotente, linger 2 ms)",
                        "franz_go_produce_sync": "franz-go con valores por defecto, `ProduceSync` de un registro por llamada (referencia justa: la propia librería)",
                        "kafka_go_defaults": "kafka-go `Writer` con valores por defecto, `WriteMessages` síncrono por llamada (lo que entregaron otros proyectos)"},
        "wb_head": "| escritor | ventas/s mediana (mín–máx) | p50 ms | p99 ms | nuestro ÷ éste |",
        "wb_verdict": "- Nuestro escritor frente a {name}: {ratio} en ventas/s (medianas); {verdict}.",
        "cat_head": "| categoría | ventas aceptadas (todas las corridas) | proporción observada | proporción esperada |",
        "ev_head": "| qué | dónde se mostró | comando | resultado |",
    },
    "en": {
        "variant": "variant", "runs": "runs", "rps": "accepted sales/s", "ratio": "× reference",
        "p50": "p50 ms", "p95": "p95 ms", "p99": "p99 ms", "fail": "failures", "drain": "drain s",
        "lag_max": "max lag (records)", "valkey_cpu": "Valkey primary CPU s", "repl_behind": "replication bytes behind at the end",
        "split": "OK calls per writer process (median)", "median_note": "median (min–max) of {n} runs",
        "users": "{u} users", "replicas": "{r} replicas", "replica1": "1 replica",
        "rest": "REST (rust-api → grpc-client → writers)", "grpc": "gRPC (rust-api → writers)",
        "grpc-server-1-x1": "grpc-server-1 (1 process)", "grpc-server-2-x2": "grpc-server-2 (2 processes)",
        "both-x3": "both (3 processes)",
        "v_better": "**a difference**: the min–max ranges do not overlap ({what} {dir})",
        "v_worse": "**a difference**: the min–max ranges do not overlap ({what} {dir})",
        "v_noise": "**inside the noise**: the min–max ranges overlap; these runs do not tell the variants apart",
        "v_few": "**no conclusion**: fewer than 2 runs per variant, no spread to judge by",
        "higher": "higher", "lower": "lower",
        "m_rps": "sales/s", "m_p95": "p95 latency",
        "verdict_line": "- {variant} against {ref}, {metric}: median {a} → {b} ({ratio}); {verdict}.",
        "not_measured": "**not yet measured** (no `{path}`)",
        "never_cloud": "**never run on a cloud** (no `{path}`).",
        "none": "—",
        "machine": ("Conditions: {n} runs between {first} and {last} (UTC), commit {commits}; CPU {cpu}, {cores} cores; "
                    "machine load during the runs: CPU busy (all processes) median {busy} % "
                    "(min–max {busy_min}–{busy_max} %), 1-minute load average at the start median {load}; "
                    "each run {dur} long."),
        "conditions": "Note by whoever measured: {c}",
        "no_results": "**Not yet measured**: no result files under `{path}`; run `scripts/report --measure`.",
        "fig": "Figure",
        "writer_kind": {"writer": "grpc-server (our writer: franz-go, Produce + promise, idempotent, linger 2 ms)",
                        "franz_go_produce_sync": "franz-go defaults, `ProduceSync` of one record per call (the fair baseline: the library itself)",
                        "kafka_go_defaults": "kafka-go `Writer` defaults, synchronous `WriteMessages` per call (what peer projects shipped)"},
        "wb_head": "| writer | sales/s median (min–max) | p50 ms | p99 ms | ours ÷ this |",
        "wb_verdict": "- Our writer against {name}: {ratio} in sales/s (medians); {verdict}.",
        "cat_head": "| category | accepted sales (all runs) | observed share | expected share |",
        "ev_head": "| what | where it was shown | command | result |",
    },
}
