#include "options/parse.hpp"

#include <boost/program_options.hpp>

#include "runvirt/error.hpp"

namespace runvirt::cli {

namespace po = boost::program_options;

namespace {

// Go's flag package allows -flag as well as --flag; it never guesses abbreviations.
constexpr int kStyle =
    (po::command_line_style::unix_style ^ po::command_line_style::allow_guessing) |
    po::command_line_style::allow_long_disguise;

struct Parsed {
  po::variables_map values;
  std::vector<std::string> positionals;
};

// Go's `--flag=true|false` for bool flags: Boost takes a bool flag only bare, so rewrite
// `--debug=true` to `--debug` and drop `--debug=false` before it parses.
std::vector<std::string> normalizeBoolFlags(const std::vector<std::string>& args,
                                            const po::options_description& description) {
  std::vector<std::string> out;
  for (const auto& arg : args) {
    auto eq = arg.find('=');
    if (arg.size() < 2 || arg[0] != '-' || eq == std::string::npos) {
      out.push_back(arg);
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1, eq - (arg[1] == '-' ? 2 : 1));
    const po::option_description* option = description.find_nothrow(name, false);
    if (!option || option->semantic()->max_tokens() != 0) {
      out.push_back(arg);
      continue;
    }
    std::string value = arg.substr(eq + 1);
    if (value == "true" || value == "1") {
      out.push_back("--" + name);
    } else if (value != "false" && value != "0") {
      throw Error("invalid boolean value \"" + value + "\" for -" + name,
                  ErrorKind::InvalidArgument);
    }
  }
  return out;
}

Parsed parse(const std::vector<std::string>& rawArgs, const po::options_description& description) {
  std::vector<std::string> args = normalizeBoolFlags(rawArgs, description);
  po::options_description all(description);
  all.add_options()("positional", po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add("positional", -1);
  Parsed out;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).style(kStyle).run(),
              out.values);
    po::notify(out.values);
  } catch (const po::unknown_option& e) {
    throw Error("flag provided but not defined: " + e.get_option_name(),
                ErrorKind::InvalidArgument);
  } catch (const po::error& e) {
    throw Error(e.what(), ErrorKind::InvalidArgument);
  }
  if (out.values.count("positional"))
    out.positionals = out.values["positional"].as<std::vector<std::string>>();
  return out;
}

void requireArgs(const std::string& verb, const Parsed& parsed, std::size_t min, std::size_t max) {
  std::size_t n = parsed.positionals.size();
  if (min == max && n != min) {
    throw Error("\"" + verb + "\" requires exactly " + std::to_string(min) + " argument(s)",
                ErrorKind::InvalidArgument);
  }
  if (n < min) {
    throw Error("\"" + verb + "\" requires a minimum of " + std::to_string(min) + " argument(s)",
                ErrorKind::InvalidArgument);
  }
  if (n > max) {
    throw Error("\"" + verb + "\" requires a maximum of " + std::to_string(max) + " argument(s)",
                ErrorKind::InvalidArgument);
  }
}

// A bool flag that also takes Go's --flag=true|false.
po::typed_value<bool>* flag(bool* target) {
  return po::value<bool>(target)->implicit_value(true)->zero_tokens();
}

po::options_description globalDescription(GlobalOptions& g) {
  po::options_description d;
  d.add_options()("root", po::value(&g.root))("log", po::value(&g.log))(
      "log-format", po::value(&g.logFormat))("debug", flag(&g.debug))(
      "systemd-cgroup", flag(&g.systemdCgroup))("rootless", po::value(&g.rootless))(
      "criu", po::value(&g.criu))("config", po::value(&g.config))("version,v", flag(&g.version))(
      "help,h", flag(&g.help));
  return d;
}

po::options_description createDescription(CreateOptions& o) {
  po::options_description d;
  d.add_options()("bundle,b", po::value(&o.bundle))("pid-file", po::value(&o.pidFile))(
      "console-socket", po::value(&o.consoleSocket))("no-pivot", flag(&o.noPivot))(
      "no-new-keyring", flag(&o.noNewKeyring))("preserve-fds", po::value(&o.preserveFds));
  return d;
}

// Index of the verb: the first argument that is neither a global flag nor a flag's value.
std::size_t findVerb(const std::vector<std::string>& argv, const po::options_description& globals) {
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') return i;
    if (arg.find('=') != std::string::npos) continue;
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    const po::option_description* option = globals.find_nothrow(name, false);
    if (option && option->semantic()->min_tokens() > 0) {
      ++i;  // skip the flag's value
    }
  }
  return argv.size();
}

}  // namespace

CommandLine parseCommandLine(const std::vector<std::string>& argv) {
  CommandLine out;
  po::options_description globals = globalDescription(out.global);
  std::size_t verb = findVerb(argv, globals);
  std::vector<std::string> globalArgs(argv.begin() + 1, argv.begin() + static_cast<long>(verb));
  parse(globalArgs, globals);
  if (out.global.logFormat != "text" && out.global.logFormat != "json") {
    throw Error("unknown log-format \"" + out.global.logFormat + "\"", ErrorKind::InvalidArgument);
  }
  if (verb < argv.size()) {
    out.verb = argv[verb];
    out.args.assign(argv.begin() + static_cast<long>(verb) + 1, argv.end());
  }
  return out;
}

CreateOptions parseCreate(const std::vector<std::string>& args) {
  CreateOptions o;
  Parsed p = parse(args, createDescription(o));
  requireArgs("create", p, 1, 1);
  o.id = p.positionals[0];
  return o;
}

RunOptions parseRun(const std::vector<std::string>& args) {
  RunOptions o;
  po::options_description d = createDescription(o.create);
  d.add_options()("detach,d", flag(&o.detach))("keep", flag(&o.keep));
  Parsed p = parse(args, d);
  requireArgs("run", p, 1, 1);
  o.create.id = p.positionals[0];
  return o;
}

ExecOptions parseExec(const std::vector<std::string>& args) {
  ExecOptions o;
  po::options_description d;
  std::string label, apparmor, cgroup;
  d.add_options()("process,p", po::value(&o.processFile))("tty,t", flag(&o.tty))(
      "env,e", po::value(&o.env)->composing())("cwd", po::value(&o.cwd))(
      "user,u", po::value(&o.user))("additional-gids,g", po::value(&o.additionalGids)->composing())(
      "cap,c", po::value(&o.capabilities)->composing())("no-new-privs", flag(&o.noNewPrivileges))(
      "detach,d", flag(&o.detach))("pid-file", po::value(&o.pidFile))(
      "console-socket", po::value(&o.consoleSocket))("preserve-fds", po::value(&o.preserveFds))(
      "ignore-paused", flag(&o.ignorePaused))("process-label", po::value(&label))(
      "apparmor", po::value(&apparmor))("cgroup", po::value(&cgroup));
  // Everything after the id is the command, flags included (`exec id sh -c ...`).
  std::vector<std::string> own;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() > 1 && arg[0] == '-') {
      own.push_back(arg);
      std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
      auto* option = name.find('=') == std::string::npos ? d.find_nothrow(name, false) : nullptr;
      if (!option && name.size() == 1) option = d.find_nothrow("-" + name, false);
      if (option && option->semantic()->min_tokens() > 0 && i + 1 < args.size())
        own.push_back(args[++i]);
      continue;
    }
    own.push_back(arg);
    ++i;
    break;
  }
  Parsed p = parse(own, d);
  if (p.positionals.empty())
    throw Error("\"exec\" requires a minimum of 1 argument(s)", ErrorKind::InvalidArgument);
  o.id = p.positionals[0];
  o.args.assign(args.begin() + static_cast<long>(i), args.end());
  if (o.processFile.empty() && o.args.empty())
    throw Error("exec: process args cannot be empty", ErrorKind::InvalidArgument);
  return o;
}

IdOptions parseIdOnly(const std::string& verb, const std::vector<std::string>& args) {
  Parsed p = parse(args, po::options_description());
  requireArgs(verb, p, 1, 1);
  return {p.positionals[0]};
}

KillOptions parseKill(const std::vector<std::string>& args) {
  KillOptions o;
  po::options_description d;
  d.add_options()("all,a", flag(&o.all));
  Parsed p = parse(args, d);
  requireArgs("kill", p, 1, 2);
  o.id = p.positionals[0];
  if (p.positionals.size() == 2) o.signal = p.positionals[1];
  return o;
}

DeleteOptions parseDelete(const std::vector<std::string>& args) {
  DeleteOptions o;
  po::options_description d;
  d.add_options()("force,f", flag(&o.force));
  Parsed p = parse(args, d);
  requireArgs("delete", p, 1, 1);
  o.id = p.positionals[0];
  return o;
}

ListOptions parseList(const std::vector<std::string>& args) {
  ListOptions o;
  po::options_description d;
  d.add_options()("format,f", po::value(&o.format))("quiet,q", flag(&o.quiet));
  Parsed p = parse(args, d);
  requireArgs("list", p, 0, 0);
  if (o.format != "table" && o.format != "json")
    throw Error("invalid format option", ErrorKind::InvalidArgument);
  return o;
}

PsOptions parsePs(const std::vector<std::string>& args) {
  PsOptions o;
  po::options_description d;
  d.add_options()("format,f", po::value(&o.format));
  Parsed p = parse(args, d);
  // runc ps accepts ps(1) options after the id; runvirt lists pids only.
  requireArgs("ps", p, 1, 1);
  o.id = p.positionals[0];
  return o;
}

SpecOptions parseSpecCommand(const std::vector<std::string>& args) {
  SpecOptions o;
  po::options_description d;
  d.add_options()("bundle,b", po::value(&o.bundle))("rootless", flag(&o.rootless));
  Parsed p = parse(args, d);
  requireArgs("spec", p, 0, 0);
  return o;
}

DockerOptions parseDocker(const std::string& verb, const std::vector<std::string>& args) {
  DockerOptions o;
  po::options_description d;
  d.add_options()("name", po::value(&o.name))("default", flag(&o.makeDefault))(
      "replace", flag(&o.replace))("path", po::value(&o.path))("daemon-json",
                                                               po::value(&o.daemonJson));
  Parsed p = parse(args, d);
  requireArgs(verb, p, 0, 0);
  return o;
}

CheckOptions parseCheck(const std::vector<std::string>& args) {
  CheckOptions o;
  po::options_description d;
  d.add_options()("daemon-json", po::value(&o.daemonJson))("probe-timeout",
                                                           po::value(&o.probeTimeout));
  Parsed p = parse(args, d);
  requireArgs("check", p, 0, 0);
  if (!(o.probeTimeout > 0 && o.probeTimeout <= 60)) {
    throw Error("--probe-timeout must be more than 0 and at most 60 seconds",
                ErrorKind::InvalidArgument);
  }
  return o;
}

EnvOptions parseEnv(const std::vector<std::string>& args) {
  EnvOptions o;
  po::options_description d;
  d.add_options()("json", flag(&o.json));
  Parsed p = parse(args, d);
  requireArgs("env", p, 0, 0);
  return o;
}

GcOptions parseGc(const std::vector<std::string>& args) {
  GcOptions o;
  po::options_description d;
  d.add_options()("dry-run", flag(&o.dryRun));
  Parsed p = parse(args, d);
  requireArgs("gc", p, 0, 0);
  return o;
}

MonitorCommandOptions parseMonitor(const std::vector<std::string>& args) {
  MonitorCommandOptions o;
  po::options_description d;
  d.add_options()("id", po::value(&o.id)->required())(
      "console-socket", po::value(&o.consoleSocket))("sync-fd", po::value(&o.syncFd)->required());
  Parsed p = parse(args, d);
  requireArgs("monitor", p, 0, 0);
  return o;
}

}  // namespace runvirt::cli
