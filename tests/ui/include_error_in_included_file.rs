// A mistake in an included file is reported in that file, with the chain that included it.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/include_error_in_included_file.lua", returns = i64)]
struct Touch<'a> {
    #[key]
    job: &'a str,
}

fn main() {}
