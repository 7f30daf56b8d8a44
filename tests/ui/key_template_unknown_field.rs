// A key template names a field the struct does not have.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_template_unknown_field.lua")]
struct AddToCart {
    #[key("{{user:{usr}}}:cart:{}")]
    cart: String,
    #[arg]
    user: String,
}

fn main() {}
