// `redis.call()` names no command: Redis refuses the call.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_call_without_command.lua", returns = i64)]
struct Nothing;

fn main() {}
