// `allow` names a lint that does not exist: the closest allowable name is suggested.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/allow_unknown_lint.lua", returns = i64, allow(unread_arg))]
struct Add<'a> {
    #[key]
    counter: &'a str,
    #[arg]
    legacy: &'a str,
}

fn main() {}
