// A misspelled member of a sandbox library: `cjson.decod` is nil on the server, so calling it
// fails there.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_unknown_library_member.lua", returns = String)]
struct SetField<'a> {
    #[key]
    document: &'a str,
    #[arg]
    json: &'a str,
}

fn main() {}
