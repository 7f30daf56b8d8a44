// `allow-cross-slot-keys` does not let declared keys span slots: the help says so.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/allow_cross_slot_keys_does_not_help.lua")]
struct Move {
    #[key("{{orders}}:{}")]
    order: String,
    #[key("{{archive}}:{}")]
    archived: String,
}

fn main() {}
