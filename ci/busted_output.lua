-- busted output handler: gtest-style progress on the console, a JUnit XML
-- report (file name from -Xoutput; none without it), and a last line
-- "N passed, N failed" that CI and humans read the same way.
return function(options)
  local busted = require 'busted'
  -- gtest rejects handler arguments; only the JUnit handler takes one.
  local console_options = {}
  for k, v in pairs(options) do console_options[k] = v end
  console_options.arguments = {}
  local console = require('busted.outputHandlers.gtest')(console_options)
  -- Without a file name busted's JUnit handler would print the XML.
  local has_file = type(options.arguments) == "table" and options.arguments[1] ~= nil
  local junit = has_file and require('busted.outputHandlers.junit')(options)
  local composite = {}

  local function summary()
    local failed = console.failuresCount + console.errorsCount
    local line = ('%d passed, %d failed'):format(console.successesCount, failed)
    if console.pendingsCount > 0 then
      line = line .. (', %d skipped'):format(console.pendingsCount)
    end
    io.write('\n', line, '\n')
    io.flush()
    return nil, true
  end

  function composite.subscribe(_, opts)
    console:subscribe(console_options)
    if junit then junit:subscribe(opts) end
    busted.subscribe({ 'suite', 'end' }, summary)
  end

  return composite
end
