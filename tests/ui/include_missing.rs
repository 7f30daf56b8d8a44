// An include that names a file that does not exist: reported at the directive.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/include_missing.lua", returns = i64)]
struct Remove<'a> {
    #[key]
    job: &'a str,
}

fn main() {}
