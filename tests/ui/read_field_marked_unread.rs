// A field marked `unread` that the script does read: the marker is stale.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/read_field_marked_unread.lua", returns = i64)]
struct Add<'a> {
    #[key]
    counter: &'a str,
    #[arg(unread)]
    amount: i64,
}

fn main() {}
