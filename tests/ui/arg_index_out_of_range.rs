// The script reads ARGV[2], but the struct declares only one arg.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/arg_index_out_of_range.lua")]
struct SetWithTtl<'a> {
    #[key]
    key: &'a str,
    #[arg]
    value: &'a str,
}

fn main() {}
