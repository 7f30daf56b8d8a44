//! The real-world corpus (`tests/corpus/*.lua`): every script compiles through
//! `#[derive(RedisScript)]` with no diagnostic (one struct per script) and returns what it
//! should against a real `redis-server`. One server serves the whole file; every test uses keys
//! of its own.

use std::sync::OnceLock;

use redis::{Commands, Value};
use redis_script::{Error, RedisScript};
use throwaway_redis::RedisServer;

fn connection() -> redis::Connection {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER
        .get_or_init(|| RedisServer::start().expect("start redis-server"))
        .connection()
        .expect("connect to redis-server")
}

// --- Distributed locks -----------------------------------------------------------------------

#[derive(RedisScript)]
#[redis_script(path = "corpus/lock_acquire.lua", returns = i64)]
struct LockAcquire<'a> {
    #[key]
    lock: &'a str,
    #[arg]
    token: &'a str,
    #[arg]
    lease_ms: u64,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/lock_release.lua", returns = i64)]
struct LockRelease<'a> {
    #[key]
    lock: &'a str,
    #[arg]
    token: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/lock_extend.lua", returns = i64)]
struct LockExtend<'a> {
    #[key]
    lock: &'a str,
    #[arg]
    token: &'a str,
    #[arg]
    lease_ms: u64,
}

#[test]
fn lock_acquire_extend_release() {
    let mut con = connection();
    let lock = "corpus:lock:orders";
    let acquire = |token| LockAcquire {
        lock,
        token,
        lease_ms: 10_000,
    };
    assert_eq!(acquire("alice").invoke(&mut con).unwrap(), 1);
    assert_eq!(acquire("bob").invoke(&mut con).unwrap(), 0);
    let extended = LockExtend {
        lock,
        token: "alice",
        lease_ms: 60_000,
    }
    .invoke(&mut con)
    .unwrap();
    assert!((59_000..=60_000).contains(&extended), "{extended}");
    assert_eq!(
        LockExtend {
            lock,
            token: "bob",
            lease_ms: 60_000
        }
        .invoke(&mut con)
        .unwrap(),
        -1
    );
    assert_eq!(
        LockRelease { lock, token: "bob" }.invoke(&mut con).unwrap(),
        0
    );
    assert_eq!(
        LockRelease {
            lock,
            token: "alice"
        }
        .invoke(&mut con)
        .unwrap(),
        1
    );
    assert_eq!(acquire("bob").invoke(&mut con).unwrap(), 1);
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/reentrant_lock.lua", returns = i64)]
struct ReentrantLock<'a> {
    #[key]
    lock: &'a str,
    #[arg]
    owner: &'a str,
    #[arg]
    lease_ms: u64,
}

#[test]
fn reentrant_lock_counts_holds() {
    let mut con = connection();
    let take = |owner| ReentrantLock {
        lock: "corpus:reentrant",
        owner,
        lease_ms: 10_000,
    };
    assert_eq!(take("a").invoke(&mut con).unwrap(), 1);
    assert_eq!(take("a").invoke(&mut con).unwrap(), 2);
    assert_eq!(take("b").invoke(&mut con).unwrap(), 0);
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/semaphore_acquire.lua", returns = i64)]
struct SemaphoreAcquire<'a> {
    #[key]
    semaphore: &'a str,
    #[arg]
    holder: &'a str,
    #[arg]
    now_ms: u64,
    #[arg]
    lease_ms: u64,
    #[arg]
    limit: u32,
}

#[test]
fn semaphore_admits_up_to_the_limit() {
    let mut con = connection();
    let acquire = |holder, now_ms| SemaphoreAcquire {
        semaphore: "corpus:semaphore",
        holder,
        now_ms,
        lease_ms: 1_000,
        limit: 2,
    };
    assert_eq!(acquire("a", 0).invoke(&mut con).unwrap(), 1);
    assert_eq!(acquire("b", 10).invoke(&mut con).unwrap(), 1);
    assert_eq!(acquire("c", 20).invoke(&mut con).unwrap(), 0);
    assert_eq!(
        acquire("a", 30).invoke(&mut con).unwrap(),
        1,
        "a holder renews"
    );
    // After the leases of a and b run out, c gets in.
    assert_eq!(acquire("c", 2_000).invoke(&mut con).unwrap(), 1);
}

// --- Stock ---------------------------------------------------------------------------------

#[derive(RedisScript)]
#[redis_script(path = "corpus/stock_deduct.lua", returns = i64)]
struct StockDeduct<'a> {
    #[key]
    stock: &'a str,
    #[arg]
    quantity: i64,
}

#[test]
fn stock_deduction() {
    let mut con = connection();
    let stock = "corpus:stock:sku-1";
    let () = con.set(stock, 5).unwrap();
    assert_eq!(
        StockDeduct { stock, quantity: 3 }.invoke(&mut con).unwrap(),
        2
    );
    assert_eq!(
        StockDeduct { stock, quantity: 3 }.invoke(&mut con).unwrap(),
        -1
    );
    assert_eq!(
        StockDeduct {
            stock: "corpus:stock:none",
            quantity: 1
        }
        .invoke(&mut con)
        .unwrap(),
        -2
    );
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/stock_deduct_order.lua")]
struct StockDeductOrder<'a> {
    #[key]
    inventory: &'a str,
    #[arg(variadic)]
    lines: Vec<&'a str>,
}

#[test]
fn order_deduction_is_all_or_nothing() {
    let mut con = connection();
    let inventory = "corpus:inventory";
    let () = con
        .hset_multiple(inventory, &[("apple", 5), ("pear", 1)])
        .unwrap();
    let short = StockDeductOrder {
        inventory,
        lines: vec!["apple", "2", "pear", "2"],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(
        short,
        Value::Array(vec![Value::Int(0), Value::BulkString(b"pear".to_vec())])
    );
    let apples: i64 = con.hget(inventory, "apple").unwrap();
    assert_eq!(apples, 5, "nothing was deducted");
    let done = StockDeductOrder {
        inventory,
        lines: vec!["apple", "2", "pear", "1"],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(done, Value::Int(1));
    let left: (i64, i64) = redis::cmd("HMGET")
        .arg(inventory)
        .arg("apple")
        .arg("pear")
        .query(&mut con)
        .unwrap();
    assert_eq!(left, (3, 0));
}

// --- Rate limiters -------------------------------------------------------------------------

#[derive(RedisScript)]
#[redis_script(path = "corpus/sliding_window_rate_limit.lua", returns = (i64, i64))]
struct SlidingWindow<'a> {
    #[key]
    window: &'a str,
    #[arg]
    now_ms: u64,
    #[arg]
    window_ms: u64,
    #[arg]
    limit: u32,
    #[arg]
    request_id: &'a str,
}

#[test]
fn sliding_window_rate_limit() {
    let mut con = connection();
    // A minute-long window: the key's expiry (the window, in real time) never interferes.
    let request = |now_ms, request_id| SlidingWindow {
        window: "corpus:sliding",
        now_ms,
        window_ms: 60_000,
        limit: 2,
        request_id,
    };
    assert_eq!(request(1_000, "r1").invoke(&mut con).unwrap(), (1, 1));
    assert_eq!(request(1_100, "r2").invoke(&mut con).unwrap(), (1, 2));
    assert_eq!(request(1_200, "r3").invoke(&mut con).unwrap(), (0, 2));
    assert_eq!(
        request(61_050, "r4").invoke(&mut con).unwrap(),
        (1, 2),
        "r1 left the window"
    );
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/token_bucket.lua", returns = (i64, i64))]
struct TokenBucket<'a> {
    #[key]
    bucket: &'a str,
    #[arg]
    capacity: u32,
    #[arg]
    per_second: u32,
    #[arg]
    now_ms: u64,
    #[arg]
    requested: u32,
}

#[test]
fn token_bucket_refills_over_time() {
    let mut con = connection();
    let take = |now_ms, requested| TokenBucket {
        bucket: "corpus:bucket",
        capacity: 10,
        per_second: 2,
        now_ms,
        requested,
    };
    assert_eq!(take(0, 8).invoke(&mut con).unwrap(), (1, 2));
    assert_eq!(take(0, 3).invoke(&mut con).unwrap(), (0, 2));
    assert_eq!(
        take(1_000, 3).invoke(&mut con).unwrap(),
        (1, 1),
        "two tokens refilled in a second"
    );
    assert_eq!(
        take(100_000, 1).invoke(&mut con).unwrap(),
        (1, 9),
        "capped at the capacity"
    );
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/fixed_window_counter.lua", returns = i64)]
struct FixedWindow<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    window_seconds: u32,
    #[arg]
    limit: u32,
}

#[test]
fn fixed_window_counter() {
    let mut con = connection();
    let counter = "corpus:window:2024-01-01T00:00";
    let hit = || FixedWindow {
        counter,
        window_seconds: 60,
        limit: 2,
    };
    assert_eq!(hit().invoke(&mut con).unwrap(), 1);
    assert_eq!(hit().invoke(&mut con).unwrap(), 2);
    assert_eq!(hit().invoke(&mut con).unwrap(), -1);
    let ttl: i64 = con.ttl(counter).unwrap();
    assert!((1..=60).contains(&ttl), "{ttl}");
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/gcra_rate_limit.lua", returns = (i64, i64))]
struct Gcra<'a> {
    #[key]
    arrival: &'a str,
    #[arg]
    now_ms: u64,
    #[arg]
    interval_ms: u64,
    #[arg]
    tolerance_ms: u64,
}

#[test]
fn gcra_allows_a_burst_then_spaces_requests() {
    let mut con = connection();
    let request = |now_ms| Gcra {
        arrival: "corpus:gcra",
        now_ms,
        interval_ms: 100,
        tolerance_ms: 100,
    };
    assert_eq!(request(1_000).invoke(&mut con).unwrap(), (1, 0));
    assert_eq!(request(1_000).invoke(&mut con).unwrap(), (1, 0));
    assert_eq!(request(1_000).invoke(&mut con).unwrap(), (0, 100));
    assert_eq!(request(1_100).invoke(&mut con).unwrap(), (1, 0));
}

// --- Leaderboards --------------------------------------------------------------------------

#[derive(RedisScript)]
#[redis_script(path = "corpus/leaderboard_submit.lua", returns = (i64, i64))]
struct LeaderboardSubmit<'a> {
    #[key]
    board: &'a str,
    #[arg]
    player: &'a str,
    #[arg]
    score: i64,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/leaderboard_top.lua", returns = Vec<String>)]
struct LeaderboardTop<'a> {
    #[key]
    board: &'a str,
    #[arg]
    count: u32,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/leaderboard_around.lua", returns = Vec<String>)]
struct LeaderboardAround<'a> {
    #[key]
    board: &'a str,
    #[arg]
    player: &'a str,
    #[arg]
    around: u32,
}

#[test]
fn leaderboard() {
    let mut con = connection();
    let board = "corpus:leaderboard";
    let submit = |player, score| LeaderboardSubmit {
        board,
        player,
        score,
    };
    assert_eq!(submit("ann", 50).invoke(&mut con).unwrap(), (50, 0));
    assert_eq!(submit("bob", 70).invoke(&mut con).unwrap(), (70, 0));
    assert_eq!(submit("cid", 60).invoke(&mut con).unwrap(), (60, 1));
    assert_eq!(
        submit("ann", 40).invoke(&mut con).unwrap(),
        (50, 2),
        "only a better score counts"
    );
    assert_eq!(submit("dee", 10).invoke(&mut con).unwrap(), (10, 3));
    let top = LeaderboardTop { board, count: 2 }.invoke(&mut con).unwrap();
    assert_eq!(top, ["bob", "70", "cid", "60"]);
    let around = LeaderboardAround {
        board,
        player: "ann",
        around: 1,
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(around, ["1", "cid", "ann", "dee"]);
    let nobody = LeaderboardAround {
        board,
        player: "zed",
        around: 1,
    }
    .invoke(&mut con)
    .unwrap();
    assert!(nobody.is_empty());
}

// --- Queues --------------------------------------------------------------------------------

#[derive(RedisScript)]
#[redis_script(path = "corpus/reliable_queue_pop.lua", returns = Option<String>)]
struct QueuePop<'a> {
    queue: &'a str,
    #[key("{{queue:{queue}}}:{}")]
    pending: &'a str,
    #[key("{{queue:{queue}}}:{}")]
    processing: &'a str,
    #[key("{{queue:{queue}}}:{}")]
    taken_at: &'a str,
    #[arg]
    now_ms: u64,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/reliable_queue_ack.lua", returns = i64)]
struct QueueAck<'a> {
    queue: &'a str,
    #[key("{{queue:{queue}}}:{}")]
    processing: &'a str,
    #[key("{{queue:{queue}}}:{}")]
    taken_at: &'a str,
    #[arg]
    job: &'a str,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/reliable_queue_requeue.lua", returns = i64)]
struct QueueRequeue<'a> {
    queue: &'a str,
    #[key("{{queue:{queue}}}:{}")]
    processing: &'a str,
    #[key("{{queue:{queue}}}:{}")]
    pending: &'a str,
    #[key("{{queue:{queue}}}:{}")]
    taken_at: &'a str,
    #[arg]
    deadline_ms: u64,
}

#[test]
fn reliable_queue() {
    let mut con = connection();
    let queue = "mail";
    let () = con
        .lpush("{queue:mail}:pending", &["job1", "job2", "job3"])
        .unwrap();
    let pop = |now_ms| QueuePop {
        queue,
        pending: "pending",
        processing: "processing",
        taken_at: "taken",
        now_ms,
    };
    assert_eq!(pop(100).invoke(&mut con).unwrap().as_deref(), Some("job1"));
    assert_eq!(pop(200).invoke(&mut con).unwrap().as_deref(), Some("job2"));
    let ack = |job| QueueAck {
        queue,
        processing: "processing",
        taken_at: "taken",
        job,
    };
    assert_eq!(ack("job1").invoke(&mut con).unwrap(), 1);
    assert_eq!(ack("job1").invoke(&mut con).unwrap(), 0);
    // job2 was taken at 200: a deadline of 150 keeps it, 250 puts it back.
    let requeue = |deadline_ms| QueueRequeue {
        queue,
        processing: "processing",
        pending: "pending",
        taken_at: "taken",
        deadline_ms,
    };
    assert_eq!(requeue(150).invoke(&mut con).unwrap(), 0);
    assert_eq!(requeue(250).invoke(&mut con).unwrap(), 1);
    // Put back at the tail that is popped next, job2 is retried first.
    assert_eq!(pop(300).invoke(&mut con).unwrap().as_deref(), Some("job2"));
    assert_eq!(pop(400).invoke(&mut con).unwrap().as_deref(), Some("job3"));
    assert_eq!(pop(500).invoke(&mut con).unwrap(), None);
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/delayed_queue_poll.lua", returns = Vec<String>)]
struct DelayedPoll<'a> {
    #[key("{{delayed:{}}}")]
    delayed: &'a str,
    #[arg]
    now: u64,
    #[arg]
    max: u32,
}

#[test]
fn delayed_queue_moves_due_jobs() {
    let mut con = connection();
    let () = con
        .zadd_multiple("{delayed:reports}", &[(10, "a"), (20, "b"), (30, "c")])
        .unwrap();
    let poll = |now| DelayedPoll {
        delayed: "reports",
        now,
        max: 10,
    };
    assert_eq!(poll(5).invoke(&mut con).unwrap(), Vec::<String>::new());
    assert_eq!(poll(20).invoke(&mut con).unwrap(), ["a", "b"]);
    let ready: Vec<String> = con.lrange("{delayed:reports}:ready", 0, -1).unwrap();
    assert_eq!(ready, ["a", "b"]);
}

// --- Idempotency, counters, caches ---------------------------------------------------------

#[derive(RedisScript)]
#[redis_script(path = "corpus/idempotency_begin.lua", returns = Vec<String>)]
struct IdempotencyBegin<'a> {
    #[key]
    key: &'a str,
    #[arg]
    ttl_seconds: u32,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/idempotency_finish.lua", returns = i64)]
struct IdempotencyFinish<'a> {
    #[key]
    key: &'a str,
    #[arg]
    result: &'a str,
}

#[test]
fn idempotency_keys() {
    let mut con = connection();
    let key = "corpus:idempotency:payment-42";
    let begin = || IdempotencyBegin {
        key,
        ttl_seconds: 600,
    };
    assert_eq!(begin().invoke(&mut con).unwrap(), ["run"]);
    assert_eq!(begin().invoke(&mut con).unwrap(), ["pending"]);
    assert_eq!(
        IdempotencyFinish {
            key,
            result: "receipt-7"
        }
        .invoke(&mut con)
        .unwrap(),
        1
    );
    assert_eq!(
        IdempotencyFinish {
            key,
            result: "again"
        }
        .invoke(&mut con)
        .unwrap(),
        0
    );
    assert_eq!(begin().invoke(&mut con).unwrap(), ["done", "receipt-7"]);
    let ttl: i64 = con.ttl(key).unwrap();
    assert!(ttl > 500, "the expiry is kept: {ttl}");
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/counter_with_expiry.lua", returns = (i64, i64))]
struct CounterWithExpiry<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    increment: i64,
    #[arg]
    ttl_seconds: u32,
}

#[test]
fn counter_with_expiry() {
    let mut con = connection();
    let add = |increment| CounterWithExpiry {
        counter: "corpus:counter",
        increment,
        ttl_seconds: 30,
    };
    assert_eq!(add(5).invoke(&mut con).unwrap(), (5, 30));
    let (value, ttl) = add(2).invoke(&mut con).unwrap();
    assert_eq!(value, 7);
    assert!((29..=30).contains(&ttl), "{ttl}");
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/cache_warmup.lua", returns = i64)]
struct CacheWarmup<'a> {
    #[key("{{cache}}:{}", variadic)]
    entries: Vec<&'a str>,
    #[arg]
    ttl_seconds: u32,
    #[arg(variadic)]
    values: Vec<&'a str>,
}

#[test]
fn cache_warmup_fills_only_missing_entries() {
    let mut con = connection();
    let () = con.set("{cache}:b", "old").unwrap();
    let warmup = CacheWarmup {
        entries: vec!["a", "b", "c"],
        ttl_seconds: 60,
        values: vec!["1", "2", "3"],
    };
    assert_eq!(warmup.invoke(&mut con).unwrap(), 2);
    let values: Vec<String> = con.mget(&["{cache}:a", "{cache}:b", "{cache}:c"]).unwrap();
    assert_eq!(values, ["1", "old", "3"]);
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/cache_get_or_lock.lua", returns = Vec<String>)]
struct CacheGetOrLock<'a> {
    #[key("{{page:{}}}")]
    entry: &'a str,
    #[arg]
    token: &'a str,
    #[arg]
    lease_ms: u64,
}

#[test]
fn cache_stampede_protection() {
    let mut con = connection();
    let get = |token| CacheGetOrLock {
        entry: "home",
        token,
        lease_ms: 5_000,
    };
    assert_eq!(get("w1").invoke(&mut con).unwrap(), ["rebuild"]);
    assert_eq!(get("w2").invoke(&mut con).unwrap(), ["wait"]);
    let () = con.set("{page:home}", "<html>").unwrap();
    assert_eq!(get("w3").invoke(&mut con).unwrap(), ["hit", "<html>"]);
    let lock: String = con.get("{page:home}:lock").unwrap();
    assert_eq!(lock, "w1");
}

// --- Pagination and deduplication ----------------------------------------------------------

#[derive(RedisScript)]
#[redis_script(path = "corpus/pagination_sorted.lua", returns = Vec<String>)]
struct PaginationSorted<'a> {
    #[key]
    set: &'a str,
    #[arg]
    page: u32,
    #[arg]
    size: u32,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/pagination_list.lua", returns = Vec<String>)]
struct PaginationList<'a> {
    #[key]
    list: &'a str,
    #[arg]
    page: u32,
    #[arg]
    size: u32,
}

#[test]
fn pagination() {
    let mut con = connection();
    let posts: Vec<(i64, String)> = (1..=5).map(|n| (n, format!("post{n}"))).collect();
    let () = con.zadd_multiple("corpus:posts", &posts).unwrap();
    let page = |page| PaginationSorted {
        set: "corpus:posts",
        page,
        size: 2,
    };
    assert_eq!(page(1).invoke(&mut con).unwrap(), ["5", "post5", "post4"]);
    assert_eq!(page(3).invoke(&mut con).unwrap(), ["5", "post1"]);
    let () = con
        .rpush("corpus:list", &["a", "b", "c", "d", "e"])
        .unwrap();
    let page = |page| PaginationList {
        list: "corpus:list",
        page,
        size: 2,
    };
    assert_eq!(page(2).invoke(&mut con).unwrap(), ["3", "c", "d"]);
    assert_eq!(page(4).invoke(&mut con).unwrap(), ["3"]);
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/dedup_enqueue.lua", returns = i64)]
struct DedupEnqueue<'a> {
    topic: &'a str,
    #[key("{{events:{topic}}}:{}")]
    seen: &'a str,
    #[key("{{events:{topic}}}:{}")]
    queue: &'a str,
    #[arg]
    event_id: &'a str,
    #[arg]
    remember_seconds: u32,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/dedup_batch.lua", returns = Vec<String>)]
struct DedupBatch<'a> {
    #[key]
    seen: &'a str,
    #[arg(variadic)]
    ids: Vec<&'a str>,
}

#[test]
fn deduplication_with_sets() {
    let mut con = connection();
    let enqueue = |event_id| DedupEnqueue {
        topic: "orders",
        seen: "seen",
        queue: "queue",
        event_id,
        remember_seconds: 3_600,
    };
    assert_eq!(enqueue("e1").invoke(&mut con).unwrap(), 1);
    assert_eq!(enqueue("e1").invoke(&mut con).unwrap(), 0);
    assert_eq!(enqueue("e2").invoke(&mut con).unwrap(), 1);
    let queued: Vec<String> = con.lrange("{events:orders}:queue", 0, -1).unwrap();
    assert_eq!(queued, ["e1", "e2"]);
    let batch = |ids| DedupBatch {
        seen: "corpus:dedup",
        ids,
    };
    assert_eq!(
        batch(vec!["a", "b", "a"]).invoke(&mut con).unwrap(),
        ["a", "b"]
    );
    assert_eq!(batch(vec!["b", "c"]).invoke(&mut con).unwrap(), ["c"]);
}

// --- Streams -------------------------------------------------------------------------------

// `unpack` of the whole variadic list fails from 8,000 entries on (`unbounded_unpack`); the
// lists this script is given are short.
#[derive(RedisScript)]
#[redis_script(
    path = "corpus/stream_append_trim.lua",
    returns = (String, i64),
    allow(unbounded_unpack)
)]
struct StreamAppend<'a> {
    #[key]
    stream: &'a str,
    #[arg]
    max_len: u32,
    #[arg(variadic)]
    fields: Vec<&'a str>,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/stream_group_read.lua", returns = Vec<(String, Vec<String>)>)]
struct StreamGroupRead<'a> {
    #[key]
    stream: &'a str,
    #[arg]
    group: &'a str,
    #[arg]
    consumer: &'a str,
    #[arg]
    count: u32,
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/stream_ack_claim.lua", returns = (i64, i64, Vec<String>))]
struct StreamAckClaim<'a> {
    #[key]
    stream: &'a str,
    #[arg]
    group: &'a str,
    #[arg]
    consumer: &'a str,
    #[arg]
    id: &'a str,
    #[arg]
    min_idle_ms: u64,
}

#[test]
fn streams_with_consumer_groups() {
    let mut con = connection();
    let stream = "corpus:stream";
    let append = |n: &'static str| StreamAppend {
        stream,
        max_len: 1_000,
        fields: vec!["n", n],
    };
    let (first, length) = append("1").invoke(&mut con).unwrap();
    assert_eq!(length, 1);
    append("2").invoke(&mut con).unwrap();
    append("3").invoke(&mut con).unwrap();

    let read = |consumer, count| StreamGroupRead {
        stream,
        group: "workers",
        consumer,
        count,
    };
    let entries = read("w1", 2).invoke(&mut con).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].0, first);
    assert_eq!(entries[0].1, ["n", "1"]);
    assert_eq!(
        read("w2", 10).invoke(&mut con).unwrap().len(),
        1,
        "the group is created once"
    );
    assert!(read("w2", 10).invoke(&mut con).unwrap().is_empty());

    // w1 acknowledges its first entry; w2 claims everything pending (idle >= 0 ms).
    let (acked, pending, claimed) = StreamAckClaim {
        stream,
        group: "workers",
        consumer: "w2",
        id: &first,
        min_idle_ms: 0,
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!((acked, pending, claimed.len()), (1, 2, 2));
}

// --- Hashes, documents, bitmaps, HyperLogLog, geo ------------------------------------------

#[derive(RedisScript)]
#[redis_script(path = "corpus/hash_compare_and_set.lua", returns = i64)]
struct HashCompareAndSet<'a> {
    #[key]
    hash: &'a str,
    #[arg]
    field: &'a str,
    #[arg]
    expected: &'a str,
    #[arg]
    new: &'a str,
}

#[test]
fn hash_compare_and_set() {
    let mut con = connection();
    let set = |expected, new| HashCompareAndSet {
        hash: "corpus:profile",
        field: "email",
        expected,
        new,
    };
    assert_eq!(set("", "a@x").invoke(&mut con).unwrap(), 1);
    assert_eq!(set("", "b@x").invoke(&mut con).unwrap(), 0);
    assert_eq!(set("a@x", "b@x").invoke(&mut con).unwrap(), 1);
    let email: String = con.hget("corpus:profile", "email").unwrap();
    assert_eq!(email, "b@x");
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/json_document_patch.lua", returns = i64)]
struct JsonPatch<'a> {
    #[key]
    document: &'a str,
    #[arg]
    version: u32,
    #[arg]
    field: &'a str,
    #[arg]
    value: &'a str,
}

#[test]
fn json_document_with_versions() {
    let mut con = connection();
    let patch = |version, value| JsonPatch {
        document: "corpus:doc",
        version,
        field: "title",
        value,
    };
    assert_eq!(patch(0, "draft").invoke(&mut con).unwrap(), 1);
    assert_eq!(patch(0, "stale").invoke(&mut con).unwrap(), -1);
    assert_eq!(patch(1, "final").invoke(&mut con).unwrap(), 2);
    let raw: String = con.get("corpus:doc").unwrap();
    assert!(
        raw.contains("\"title\":\"final\"") && raw.contains("\"version\":2"),
        "{raw}"
    );
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/daily_active_bitmap.lua", returns = (i64, i64))]
struct DailyActive<'a> {
    #[key]
    bitmap: &'a str,
    #[arg]
    user: u32,
    #[arg]
    keep_seconds: u32,
}

// `unpack` of the whole variadic list fails from 8,000 entries on (`unbounded_unpack`); the
// lists this script is given are short.
#[derive(RedisScript)]
#[redis_script(
    path = "corpus/unique_visitors.lua",
    returns = i64,
    allow(unbounded_unpack)
)]
struct UniqueVisitors<'a> {
    #[key]
    visitors: &'a str,
    #[arg(variadic)]
    ids: Vec<&'a str>,
}

#[test]
fn bitmaps_and_hyperloglogs() {
    let mut con = connection();
    let mark = |user| DailyActive {
        bitmap: "corpus:active:day1",
        user,
        keep_seconds: 86_400,
    };
    assert_eq!(mark(7).invoke(&mut con).unwrap(), (0, 1));
    assert_eq!(mark(7).invoke(&mut con).unwrap(), (1, 1));
    assert_eq!(mark(1_000).invoke(&mut con).unwrap(), (0, 2));
    let visit = |ids| UniqueVisitors {
        visitors: "corpus:uniques",
        ids,
    };
    assert_eq!(visit(vec!["a", "b", "a"]).invoke(&mut con).unwrap(), 2);
    assert_eq!(visit(vec!["c"]).invoke(&mut con).unwrap(), 3);
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/geo_nearby.lua", returns = Vec<String>)]
struct GeoNearby<'a> {
    #[key]
    places: &'a str,
    #[arg]
    name: &'a str,
    #[arg]
    longitude: f64,
    #[arg]
    latitude: f64,
    #[arg]
    radius_km: f64,
}

#[test]
fn geo_search_nearby() {
    let mut con = connection();
    let () = redis::cmd("GEOADD")
        .arg("corpus:places")
        .arg(2.3522)
        .arg(48.8566)
        .arg("paris")
        .arg(-0.1276)
        .arg(51.5072)
        .arg("london")
        .query(&mut con)
        .unwrap();
    let near = GeoNearby {
        places: "corpus:places",
        name: "versailles",
        longitude: 2.1301,
        latitude: 48.8049,
        radius_km: 50.0,
    };
    assert_eq!(near.invoke(&mut con).unwrap(), ["versailles", "paris"]);
}

// --- Transfers, sessions, shards, maxima, standalone configuration -------------------------

#[derive(RedisScript)]
#[redis_script(path = "corpus/account_transfer.lua", returns = (i64, i64))]
struct AccountTransfer<'a> {
    bank: &'a str,
    #[key("{{bank:{bank}}}:{}")]
    from: &'a str,
    #[key("{{bank:{bank}}}:{}")]
    to: &'a str,
    #[arg]
    amount: i64,
}

#[test]
fn account_transfer_refuses_overdrafts() {
    let mut con = connection();
    let () = con.set("{bank:corpus}:alice", 100).unwrap();
    let transfer = |amount| AccountTransfer {
        bank: "corpus",
        from: "alice",
        to: "bob",
        amount,
    };
    assert_eq!(transfer(30).invoke(&mut con).unwrap(), (70, 30));
    let error = transfer(100).invoke(&mut con).unwrap_err();
    assert!(matches!(error, Error::Redis(_)), "{error:?}");
    assert_eq!(error.code(), Some("INSUFFICIENT_FUNDS"));
    let balance: i64 = con.get("{bank:corpus}:alice").unwrap();
    assert_eq!(balance, 70);
}

// `unpack` of the whole variadic list fails from 8,000 entries on (`unbounded_unpack`); the
// lists this script is given are short.
#[derive(RedisScript)]
#[redis_script(
    path = "corpus/session_touch.lua",
    returns = Vec<String>,
    allow(unbounded_unpack)
)]
struct SessionTouch<'a> {
    #[key]
    session: &'a str,
    #[arg]
    ttl_seconds: u32,
    #[arg(variadic)]
    fields: Vec<&'a str>,
}

#[test]
fn session_touch() {
    let mut con = connection();
    let session = "corpus:session:s1";
    let touched = SessionTouch {
        session,
        ttl_seconds: 900,
        fields: vec!["user", "ann"],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(touched, ["user", "ann"]);
    let again = SessionTouch {
        session,
        ttl_seconds: 900,
        fields: vec![],
    }
    .invoke(&mut con)
    .unwrap();
    assert_eq!(again, ["user", "ann"]);
    let ttl: i64 = con.ttl(session).unwrap();
    assert!(ttl > 800, "{ttl}");
}

// `unpack` of the whole variadic list fails from 8,000 entries on (`unbounded_unpack`); the
// lists this script is given are short.
#[derive(RedisScript)]
#[redis_script(
    path = "corpus/sharded_counter_sum.lua",
    returns = i64,
    allow(unbounded_unpack)
)]
struct ShardedCounterSum<'a> {
    counter: &'a str,
    #[key("{{counter:{counter}}}:{}", variadic)]
    shards: Vec<u32>,
}

#[test]
fn sharded_counter_sum() {
    let mut con = connection();
    let () = con.set("{counter:views}:0", 3).unwrap();
    let () = con.set("{counter:views}:2", 4).unwrap();
    let sum = ShardedCounterSum {
        counter: "views",
        shards: vec![0, 1, 2],
    };
    assert_eq!(sum.invoke(&mut con).unwrap(), 7);
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/max_value.lua", returns = i64)]
struct MaxValue<'a> {
    #[key]
    maximum: &'a str,
    #[arg]
    value: i64,
}

#[test]
fn max_value() {
    let mut con = connection();
    let offer = |value| MaxValue {
        maximum: "corpus:max",
        value,
    };
    assert_eq!(offer(5).invoke(&mut con).unwrap(), 5);
    assert_eq!(offer(3).invoke(&mut con).unwrap(), 5);
    assert_eq!(offer(9).invoke(&mut con).unwrap(), 9);
}

#[derive(RedisScript)]
#[redis_script(path = "corpus/feature_flags_standalone.lua", returns = Option<String>)]
struct FeatureFlag<'a> {
    #[arg]
    flag: &'a str,
}

#[test]
fn standalone_script_with_a_literal_key() {
    let mut con = connection();
    let () = con.hset("config:feature-flags", "dark-mode", "on").unwrap();
    assert_eq!(
        FeatureFlag { flag: "dark-mode" }
            .invoke(&mut con)
            .unwrap()
            .as_deref(),
        Some("on")
    );
    assert_eq!(FeatureFlag { flag: "beta" }.invoke(&mut con).unwrap(), None);
}

// --- The corpus as a whole -----------------------------------------------------------------

/// Every `.lua` file of the corpus has a struct above, so none is left unchecked.
#[test]
fn every_corpus_script_is_derived_above() {
    let this_file = include_str!("corpus.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("read tests/corpus") {
        let path = entry.expect("read tests/corpus").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".lua") {
            continue;
        }
        count += 1;
        assert!(
            this_file.contains(&format!("path = \"corpus/{name}\"")),
            "tests/corpus/{name} has no #[derive(RedisScript)] struct in corpus.rs"
        );
    }
    assert!(count >= 30, "the corpus has {count} scripts");
}

/// The analysis refuses exactly what Lua refuses for nesting: scripts just under the limit run,
/// scripts the analysis calls too deep are refused by Redis too.
#[test]
fn nesting_limit_agrees_with_redis() {
    let mut con = connection();
    let declaration = redis_script_analysis::Declaration::default();
    let cases = [
        format!("return {}1{}", "(".repeat(190), ")".repeat(190)),
        format!("return {}1{}", "(".repeat(250), ")".repeat(250)),
        format!("{}{}", "do ".repeat(199), "end ".repeat(199)),
        format!("{}{}", "do ".repeat(300), "end ".repeat(300)),
        format!("return 'a'{}", "..'a'".repeat(198)),
        format!("return 'a'{}", "..'a'".repeat(300)),
        format!("return 2{}", "^1".repeat(300)),
        // Each unary operator is a level of its own.
        format!("return {}1", "not ".repeat(198)),
        format!("return {}1", "not ".repeat(250)),
        format!("return {}1", "- ".repeat(198)),
        format!("return {}1", "- ".repeat(100_000)),
        // `#` of a number fails at run time: a function that is never called only compiles.
        format!(
            "local f = function(t) return {}t end return 1",
            "#".repeat(190)
        ),
        format!(
            "local f = function(t) return {}t end return 1",
            "# ".repeat(300)
        ),
        format!("return {}1", "not - ".repeat(150)),
        format!("return 1{}", " - -1".repeat(1000)),
    ];
    for source in cases {
        let analysis = redis_script_analysis::analyze(&source, &declaration);
        let refused_by_analysis = analysis
            .diagnostics
            .iter()
            .any(|diagnostic| diagnostic.message.contains("too many syntax levels"));
        let refused_by_redis = redis::cmd("EVAL")
            .arg(&source)
            .arg(0)
            .query::<Value>(&mut con)
            .is_err();
        if refused_by_analysis {
            assert!(
                refused_by_redis,
                "the analysis refuses what Redis runs: {}",
                &source[..40]
            );
        }
        if !refused_by_redis {
            assert!(
                analysis.diagnostics.is_empty(),
                "{:?}",
                analysis.diagnostics
            );
        }
    }
}
