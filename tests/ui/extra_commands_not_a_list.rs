// `extra_commands` takes a list of string literals: not one string, not bare names.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/extra_commands_not_a_list.lua", extra_commands = "HEXPIRE")]
struct Expire<'a> {
    #[key]
    hash: &'a str,
}

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/extra_commands_not_a_list.lua", extra_commands = [HEXPIRE])]
struct ExpireBare<'a> {
    #[key]
    hash: &'a str,
}

fn main() {}
