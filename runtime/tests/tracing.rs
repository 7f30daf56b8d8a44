//! The `tracing` feature: one span per invocation with the script's name, SHA1, key count and
//! whether the `NOSCRIPT` fallback ran; one per pipeline, transaction or cluster batch, with a
//! child span per invocation inside it. Needs the feature, so the README's
//! test command, `cargo test --workspace --all-features`, includes it.
#![cfg(feature = "tracing")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use redis_script::{RedisFunction, RedisScript, Script, ScriptPipeline, ScriptTransaction};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(RedisScript)]
#[redis_script(path = "lua/doc_incr.lua", returns = i64)]
struct Incr<'a> {
    #[key]
    counter: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "lua/doc_transfer.lua", returns = i64)]
struct Transfer<'a> {
    bank: &'a str,
    #[key("{{bank:{bank}}}:acct:{}")]
    from: &'a str,
    #[key("{{bank:{bank}}}:acct:{}")]
    to: &'a str,
    #[arg]
    amount: i64,
}

#[derive(RedisFunction)]
#[redis_function(library = "lua/doc_bank.lua", function = "doc_transfer", returns = i64)]
struct BankTransfer<'a> {
    #[key("{{bank}}:{}")]
    from: &'a str,
    #[key("{{bank}}:{}")]
    to: &'a str,
    #[arg]
    amount: i64,
}

type Fields = BTreeMap<String, String>;

/// Records every span's name and fields, in creation order.
#[derive(Clone, Default)]
struct Recorder {
    spans: Arc<Mutex<Vec<(&'static str, Fields)>>>,
    /// The explicit parent of each span (its index in `spans`), if any.
    parents: Arc<Mutex<Vec<Option<usize>>>>,
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
        let parent = span.parent().map(|id| id.into_u64() as usize - 1);
        self.parents.lock().unwrap().push(parent);
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
    assert_eq!(spans.len(), 4, "{spans:?}");
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
    assert_eq!(
        spans[3].0, "redis_script.invoke",
        "the pipeline's invocation"
    );
    assert_eq!(recorder.parents.lock().unwrap()[3], Some(2));
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

#[test]
fn each_invocation_in_a_pipeline_or_transaction_has_a_child_span() {
    let server = throwaway_redis::RedisServer::start().expect("redis-server");
    let mut connection = server.connection().unwrap();
    let recorder = Recorder::default();
    let transfer = Transfer {
        bank: "b",
        from: "alice",
        to: "bob",
        amount: 3,
    };
    tracing::subscriber::with_default(recorder.clone(), || {
        let mut pipeline = ScriptPipeline::new();
        pipeline.invoke(&Incr { counter: "p" });
        pipeline.command::<()>(redis::cmd("PING"));
        pipeline.invoke(&transfer);
        let replies = pipeline.query(&mut connection).unwrap();
        assert_eq!(replies.len(), 3);

        // The first invocation of each script gets a SCRIPT LOAD, the later ones do not.
        let mut transaction = ScriptTransaction::new();
        transaction.invoke(&Incr { counter: "t" });
        transaction.invoke(&transfer);
        transaction.command::<()>(redis::cmd("PING"));
        transaction.invoke(&Incr { counter: "t" });
        let replies = transaction.query(&mut connection).unwrap().unwrap();
        assert_eq!(replies.len(), 4);
    });
    let spans = recorder.spans.lock().unwrap();
    let parents = recorder.parents.lock().unwrap();
    let summary: Vec<(&str, Option<usize>, [String; 4])> = spans
        .iter()
        .zip(parents.iter())
        .map(|((name, fields), parent)| {
            let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
            let shown = if *name == "redis_script.batch" {
                [
                    field("kind"),
                    field("invocations"),
                    field("commands"),
                    String::new(),
                ]
            } else {
                [
                    field("script"),
                    field("sha1"),
                    field("keys"),
                    field("noscript_fallback"),
                ]
            };
            (*name, *parent, shown)
        })
        .collect();
    let batch = |kind: &str, invocations: &str, commands: &str| {
        [
            kind.into(),
            invocations.into(),
            commands.into(),
            String::new(),
        ]
    };
    let invocation = |script: &str, sha1: &str, keys: &str, fallback: &str| {
        [script.into(), sha1.into(), keys.into(), fallback.into()]
    };
    assert_eq!(
        summary,
        [
            ("redis_script.batch", None, batch("pipeline", "2", "3")),
            // A command follows it: sent as EVAL, the source up front.
            (
                "redis_script.invoke",
                Some(0),
                invocation("Incr", Incr::SHA1, "1", "true")
            ),
            (
                "redis_script.invoke",
                Some(0),
                invocation("Transfer", Transfer::SHA1, "2", "false")
            ),
            ("redis_script.batch", None, batch("transaction", "3", "4")),
            (
                "redis_script.invoke",
                Some(3),
                invocation("Incr", Incr::SHA1, "1", "true")
            ),
            (
                "redis_script.invoke",
                Some(3),
                invocation("Transfer", Transfer::SHA1, "2", "true")
            ),
            (
                "redis_script.invoke",
                Some(3),
                invocation("Incr", Incr::SHA1, "1", "false")
            ),
        ]
    );
}

#[tokio::test]
async fn async_pipelines_and_transactions_have_child_spans_too() {
    let server = throwaway_redis::RedisServer::start().expect("redis-server");
    let mut connection = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let recorder = Recorder::default();
    let _default = tracing::subscriber::set_default(recorder.clone());
    let mut pipeline = ScriptPipeline::new();
    pipeline.invoke(&Incr { counter: "a" });
    pipeline.query_async(&mut connection).await.unwrap();
    let mut transaction = ScriptTransaction::new();
    transaction.invoke(&Incr { counter: "a" });
    transaction.invoke(&Incr { counter: "a" });
    transaction
        .query_async(&mut connection)
        .await
        .unwrap()
        .unwrap();
    drop(_default);
    let spans = recorder.spans.lock().unwrap();
    let parents = recorder.parents.lock().unwrap();
    let shape: Vec<(&str, Option<usize>, String)> = spans
        .iter()
        .zip(parents.iter())
        .map(|((name, fields), parent)| {
            let detail = fields
                .get("kind")
                .or(fields.get("noscript_fallback"))
                .cloned()
                .unwrap_or_default();
            (*name, *parent, detail)
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("redis_script.batch", None, "pipeline".to_owned()),
            ("redis_script.invoke", Some(0), "false".to_owned()),
            ("redis_script.batch", None, "transaction".to_owned()),
            ("redis_script.invoke", Some(2), "true".to_owned()),
            ("redis_script.invoke", Some(2), "false".to_owned()),
        ]
    );
    assert!(
        spans
            .iter()
            .all(|(name, fields)| *name != "redis_script.invoke"
                || (fields.get("script").map(String::as_str) == Some("Incr")
                    && fields.get("sha1").map(String::as_str) == Some(Incr::SHA1)
                    && fields.get("keys").map(String::as_str) == Some("1")))
    );
}

#[cfg(feature = "cluster")]
#[tokio::test]
async fn each_invocation_in_a_cluster_batch_has_a_child_span() {
    let cluster = tokio::task::spawn_blocking(throwaway_redis::RedisCluster::start)
        .await
        .unwrap()
        .expect("a 6-node redis cluster");
    let mut nodes = redis_script::batch::ClusterNodes::connect(cluster.urls()[0].as_str())
        .await
        .unwrap();
    let recorder = Recorder::default();
    let _default = tracing::subscriber::set_default(recorder.clone());
    let mut batch = redis_script::batch::ClusterBatch::new();
    // Keys in slots of different primaries, and two invocations of a two-key script.
    let counters = ["a", "b", "c", "d"];
    let tickets: Vec<_> = counters
        .iter()
        .map(|counter| batch.invoke(&Incr { counter }))
        .collect();
    let transfer = Transfer {
        bank: "eu",
        from: "alice",
        to: "bob",
        amount: 0,
    };
    batch.invoke(&transfer);
    batch.invoke(&transfer);
    let replies = batch.run_async(&mut nodes).await.unwrap();
    for ticket in tickets {
        assert_eq!(replies.get(ticket).unwrap(), 1);
    }
    drop(_default);

    let spans = recorder.spans.lock().unwrap();
    let parents = recorder.parents.lock().unwrap();
    assert_eq!(spans.len(), 7, "{spans:?}");
    assert_eq!(spans[0].0, "redis_script.batch");
    assert_eq!(spans[0].1.get("kind").map(String::as_str), Some("cluster"));
    assert_eq!(spans[0].1.get("invocations").map(String::as_str), Some("6"));
    let nodes_used: usize = spans[0].1["nodes"].parse().unwrap();
    assert!((2..=3).contains(&nodes_used), "{spans:?}");
    assert_eq!(spans[0].1.get("retried").map(String::as_str), Some("0"));
    let children: Vec<(Option<usize>, &str, &str, &str, &str)> = spans[1..]
        .iter()
        .zip(&parents[1..])
        .map(|((name, fields), parent)| {
            assert_eq!(*name, "redis_script.invoke");
            (
                *parent,
                fields["script"].as_str(),
                fields["sha1"].as_str(),
                fields["keys"].as_str(),
                fields["noscript_fallback"].as_str(),
            )
        })
        .collect();
    let incr = (Some(0), "Incr", Incr::SHA1, "1", "false");
    let transfer = (Some(0), "Transfer", Transfer::SHA1, "2", "false");
    assert_eq!(
        children,
        [incr, incr, incr, incr, transfer, transfer],
        "one child span per invocation, in order"
    );
}

#[test]
fn a_function_call_names_its_function_where_a_script_has_a_sha1() {
    let server = throwaway_redis::RedisServer::start().expect("redis-server");
    let mut connection = server.connection().unwrap();
    let recorder = Recorder::default();
    let transfer = BankTransfer {
        from: "a",
        to: "b",
        amount: 5,
    };
    tracing::subscriber::with_default(recorder.clone(), || {
        // The library is missing: loaded and called again, in the same span.
        assert_eq!(transfer.invoke(&mut connection).unwrap(), 5);
        let mut pipeline = ScriptPipeline::new();
        pipeline.invoke_function(&transfer);
        pipeline.invoke(&Incr { counter: "f" });
        pipeline.query(&mut connection).unwrap();
    });
    let spans = recorder.spans.lock().unwrap();
    let field = |index: usize, name: &str| spans[index].1.get(name).cloned();
    let invocations: Vec<usize> = (0..spans.len())
        .filter(|&index| spans[index].0 == "redis_script.invoke")
        .collect();
    assert_eq!(invocations.len(), 3, "{spans:?}");
    for &index in &invocations[..2] {
        assert_eq!(field(index, "script").as_deref(), Some("BankTransfer"));
        assert_eq!(field(index, "function").as_deref(), Some("doc_transfer"));
        assert_eq!(field(index, "sha1"), None, "{:?}", spans[index]);
        assert_eq!(field(index, "keys").as_deref(), Some("2"));
    }
    let script = invocations[2];
    assert_eq!(field(script, "sha1").as_deref(), Some(Incr::SHA1));
    assert_eq!(field(script, "function"), None);
}
