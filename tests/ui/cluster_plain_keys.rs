// Two plain #[key]s: each value is hashed whole, so nothing proves they share a hash slot.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/cluster_plain_keys.lua", returns = i64)]
struct Transfer<'a> {
    #[key]
    from: &'a str,
    #[key]
    to: &'a str,
    #[arg]
    amount: i64,
}

fn main() {}
