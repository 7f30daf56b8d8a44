// Variadic lists whose entries are not one argument each: a `None` writes nothing and a pair
// writes two, so `numkeys` (the number of entries) would mix KEYS with ARGV.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/variadic_entries_not_single_arguments.lua", standalone_only)]
struct SetAll<'a> {
    #[key(variadic)]
    keys: Vec<Option<&'a str>>,
    #[arg(variadic)]
    pairs: Vec<(String, String)>,
}

fn main() {}
