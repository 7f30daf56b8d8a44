// A plain #[key] of a type that is several arguments: it would shift every later entry of KEYS.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/field_not_single_argument.lua")]
struct DeleteAll {
    #[key]
    keys: Vec<String>,
}

fn main() {}
