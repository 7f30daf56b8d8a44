return `not lua`
