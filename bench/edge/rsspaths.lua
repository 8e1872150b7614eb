-- wrk script: cycle through the paths listed in the file given as argument.
local paths = {}
function init(args)
  for line in io.lines(args[1]) do table.insert(paths, line) end
  i = math.random(#paths)
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
