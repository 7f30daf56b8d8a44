// RedisScript on a tuple struct: its fields have no names to mark #[key] or #[arg].
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/tuple_struct.lua")]
struct Incr(#[key] String);

fn main() {}
