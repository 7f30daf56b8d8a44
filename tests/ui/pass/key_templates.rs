// Key templates whose hash tags prove the keys share a Redis Cluster hash slot, with a field
// that only fills templates (neither #[key] nor #[arg]).
use redis_script::Script;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/key_templates.lua", returns = i64)]
struct Transfer<'a> {
    bank: &'a str,
    #[key("{{bank:{bank}}}:account:{}")]
    from: &'a str,
    #[key("{{bank:{bank}}}:account:{}")]
    to: &'a str,
    #[key("{{bank:{bank}}}:audit:{}", variadic)]
    auditors: Vec<&'a str>,
    #[arg]
    amount: i64,
}

fn main() {
    let transfer = Transfer {
        bank: "b1",
        from: "alice",
        to: "bob",
        auditors: vec!["carol"],
        amount: 5,
    };
    let packed = transfer.evalsha_command().get_packed_command();
    for key in [
        "{bank:b1}:account:alice",
        "{bank:b1}:account:bob",
        "{bank:b1}:audit:carol",
    ] {
        assert!(
            packed
                .windows(key.len())
                .any(|window| window == key.as_bytes()),
            "{key} missing from {}",
            String::from_utf8_lossy(&packed)
        );
    }
}
