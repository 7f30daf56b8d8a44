// `extra_commands` is given twice.
#[derive(redis_script::RedisScript)]
#[redis_script(
    path = "ui/lua/duplicate_extra_commands.lua",
    extra_commands = ["HEXPIRE"],
    extra_commands = ["HPERSIST"]
)]
struct Expire<'a> {
    #[key]
    hash: &'a str,
}

fn main() {}
