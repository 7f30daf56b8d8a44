// A key prefix in ARGV whose hash tag is not the keys': keys built on it may leave the slot.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/arg_prefix_other_hash_tag.lua", returns = i64)]
struct Enqueue<'a> {
    queue: &'a str,
    #[key("{{q:{queue}}}:{}")]
    wait: &'a str,
    #[arg("{{{}}}:")]
    prefix: &'a str,
    #[arg]
    id: &'a str,
}

fn main() {}
