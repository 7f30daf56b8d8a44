// A write command in a script whose shebang says `no-writes`.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_write_in_no_writes.lua", returns = i64)]
struct CountVisit<'a> {
    #[key]
    visits: &'a str,
}

fn main() {}
