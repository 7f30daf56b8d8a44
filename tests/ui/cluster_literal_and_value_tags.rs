// A literal hash tag next to one made of a value: they may or may not share a slot.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/cluster_literal_and_value_tags.lua")]
struct Archive {
    #[key("{{orders}}:{}")]
    order: String,
    #[key("{{archive:{}}}")]
    archived: String,
}

fn main() {}
