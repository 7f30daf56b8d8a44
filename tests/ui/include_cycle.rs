// Two files that include each other: the chain is shown.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/include_cycle.lua", returns = i64)]
struct Cycle<'a> {
    #[key]
    job: &'a str,
}

fn main() {}
