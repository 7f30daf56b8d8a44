// A key template uses a variadic field, which is a list of values.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_template_uses_variadic_field.lua")]
struct AddItems {
    #[key("{{cart:{items}}}:{}")]
    cart: String,
    #[arg(variadic)]
    items: Vec<String>,
}

fn main() {}
