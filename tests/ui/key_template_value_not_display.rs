// A key template formats its values with `Display`; `Vec<u8>` has none.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_template_value_not_display.lua")]
struct Get {
    #[key("{{user}}:{}")]
    id: Vec<u8>,
}

fn main() {}
