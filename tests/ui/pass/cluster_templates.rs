// Key templates: template parameters, a variadic templated key, raw identifiers, and the two
// ways of opting out of the slot proof.
use redis_script::Script;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/cluster_transfer.lua", returns = i64)]
struct Transfer<'a> {
    bank: &'a str,
    #[key("{{bank:{bank}}}:acct:{}")]
    from: &'a str,
    #[key("{{bank:{bank}}}:acct:{}")]
    to: &'a str,
    #[arg]
    amount: i64,
}

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/cluster_sum.lua", returns = i64)]
struct SumCart<'a> {
    r#type: u32,
    #[key("{{cart:{type}}}:{}", variadic)]
    items: Vec<&'a str>,
}

// Literal tags with equal slots are proven at compile time.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/cluster_transfer.lua", returns = i64)]
struct Shop {
    #[key("{{shop}}:stock:{}")]
    from: u64,
    #[key("orders{{shop}}{}")]
    to: u64,
    #[arg]
    amount: i64,
}

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/cluster_transfer.lua", returns = i64, standalone_only)]
struct StandaloneTransfer<'a> {
    #[key]
    from: &'a str,
    #[key]
    to: &'a str,
    #[arg]
    amount: i64,
}

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/cluster_no_cluster.lua", returns = i64)]
struct NoCluster<'a> {
    #[key]
    from: &'a str,
    #[key]
    to: &'a str,
    #[arg]
    amount: i64,
}

fn main() {
    let transfer = Transfer { bank: "b", from: "alice", to: "bob", amount: 1 };
    let command = transfer.evalsha_command();
    let keys: Vec<_> = command.args_iter().skip(3).take(2).collect();
    assert_eq!(
        keys,
        [
            redis::Arg::Simple(&b"{bank:b}:acct:alice"[..]),
            redis::Arg::Simple(&b"{bank:b}:acct:bob"[..])
        ]
    );
    assert_eq!(Transfer::KEY_TEMPLATES, &[Some("{{bank:{bank}}}:acct:{}"); 2]);
    let cart = SumCart { r#type: 7, items: vec!["a", "b"] };
    assert_eq!(cart.evalsha_command().args_iter().count(), 5);
    let _ = Shop { from: 1, to: 2, amount: 3 }.evalsha_command();
    assert!(StandaloneTransfer::STANDALONE_ONLY && !Transfer::STANDALONE_ONLY);
    let _ = StandaloneTransfer { from: "a", to: "b", amount: 1 };
    assert!(NoCluster::FLAGS.no_cluster);
    let _ = NoCluster { from: "a", to: "b", amount: 1 };
}
