// A container command needs a subcommand: `OBJECT` alone is a wrong number of args.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_container_without_subcommand.lua", returns = i64)]
struct Inspect;

fn main() {}
