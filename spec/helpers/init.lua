-- spec/helpers/init.lua - `require "spec.helpers"` (where the path has
-- ./?/init.lua): the same table as `require "spec.helpers.peer"`.
return require "spec.helpers.peer"
