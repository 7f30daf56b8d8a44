//! The `tracing` feature: one span per invocation with the script's name, SHA1, key count and
//! whether the `NOSCRIPT` fallback ran; one per pipeline. Needs the feature, so the README's
//! test command, `cargo test --workspace --all-features`, includes it.
#![cfg(feature = "tracing")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use redis_script::{RedisScript, Script, ScriptPipeline};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(RedisScript)]
#[redis_script(path = "lua/doc_incr.lua", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

type Fields = BTreeMap<String, String>;

/// Records every span's name and fields, in creation order.
#[derive(Clone, Default)]
struct Recorder {
    spans: Arc<Mutex<Vec<(&'static str, Fields)>>>,
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields::new();
        span.record(&mut Visitor(&mut fields));
        let mut spans = self.spans.lock().unwrap();
        spans.push((span.metadata().name(), fields));
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.spans.lock().unwrap();
        let index = span.into_u64() as usize - 1;
        values.record(&mut Visitor(&mut spans[index].1));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn one_span_per_invocation_and_per_pipeline() {
    let server = throwaway_redis::RedisServer::start().expect("redis-server");
    let mut connection = server.connection().unwrap();
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        // Not cached yet: NOSCRIPT, then EVAL.
        assert_eq!(Incr { counter: "c" }.invoke(&mut connection).unwrap(), 1);
        assert_eq!(Incr { counter: "c" }.invoke(&mut connection).unwrap(), 2);
        let mut pipeline = ScriptPipeline::new();
        pipeline.invoke(&Incr { counter: "c" });
        pipeline.command::<()>(redis::cmd("PING"));
        pipeline.query(&mut connection).unwrap();
    });
    let spans = recorder.spans.lock().unwrap();
    let field = |index: usize, name: &str| spans[index].1.get(name).cloned().unwrap_or_default();
    assert_eq!(spans.len(), 3, "{spans:?}");
    assert_eq!(spans[0].0, "redis_script.invoke");
    assert_eq!(field(0, "script"), "Incr");
    assert_eq!(field(0, "sha1"), Incr::SHA1);
    assert_eq!(field(0, "keys"), "1");
    assert_eq!(field(0, "noscript_fallback"), "true");
    assert_eq!(field(1, "noscript_fallback"), "false");
    assert_eq!(spans[2].0, "redis_script.batch");
    assert_eq!(field(2, "kind"), "pipeline");
    assert_eq!(field(2, "invocations"), "1");
    assert_eq!(field(2, "commands"), "2");
}

#[test]
fn replication_waits_and_async_invocations_have_spans_too() {
    let server = throwaway_redis::RedisServer::start().expect("redis-server");
    let client = redis::Client::open(server.url()).unwrap();
    let mut connection = client.get_connection().unwrap();
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let timeout = std::time::Duration::from_millis(10);
        // The first of each pair falls back to EVAL: the cache is flushed before it.
        let done = Incr { counter: "w" }
            .invoke_and_wait(&mut connection, 0, timeout)
            .unwrap();
        assert_eq!((done.value, done.replicas), (1, 0));
        let done = Incr { counter: "w" }
            .invoke_and_wait(&mut connection, 0, timeout)
            .unwrap();
        assert_eq!(done.value, 2);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut connection = client.get_multiplexed_async_connection().await.unwrap();
            let _: () = redis::cmd("SCRIPT")
                .arg("FLUSH")
                .query_async(&mut connection)
                .await
                .unwrap();
            let count = Incr { counter: "w" }
                .invoke_async(&mut connection)
                .await
                .unwrap();
            assert_eq!(count, 3);
            let _: () = redis::cmd("SCRIPT")
                .arg("FLUSH")
                .query_async(&mut connection)
                .await
                .unwrap();
            let done = Incr { counter: "w" }
                .invoke_and_wait_async(&mut connection, 0, timeout)
                .await
                .unwrap();
            assert_eq!(done.value, 4);
        });
    });
    let spans = recorder.spans.lock().unwrap();
    let invocations: Vec<(&str, &str)> = spans
        .iter()
        .map(|(name, fields)| {
            assert_eq!(*name, "redis_script.invoke");
            assert_eq!(fields.get("script").map(String::as_str), Some("Incr"));
            assert_eq!(fields.get("keys").map(String::as_str), Some("1"));
            let fallback = fields.get("noscript_fallback").map_or("", String::as_str);
            (*name, fallback)
        })
        .collect();
    assert_eq!(
        invocations
            .iter()
            .map(|(_, fallback)| *fallback)
            .collect::<Vec<_>>(),
        ["true", "false", "true", "true"],
        "{spans:?}"
    );
}
