// Redis refuses a wrong argument count whatever the derive says: it cannot be allowed.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/allow_not_allowable.lua", returns = i64, allow(wrong_arity))]
struct Get<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
