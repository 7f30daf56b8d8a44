// Two literal hash tags in different Redis Cluster hash slots.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/keys_in_different_slots.lua")]
struct Move {
    #[key("{{orders}}:{}")]
    order: String,
    #[key("{{archive}}:{}")]
    archived: String,
}

fn main() {}
