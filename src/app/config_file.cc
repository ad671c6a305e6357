#include "app/config_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

namespace furrow::app {
namespace {

std::string KeyForOption(const CLI::Option* opt) {
  std::string name = opt->get_lnames().empty() ? opt->get_name() : opt->get_lnames().front();
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

Status ApplyValue(CLI::Option* opt, const YAML::Node& node, const std::string& where) {
  std::vector<std::string> values;
  if (node.IsScalar()) {
    values.push_back(node.as<std::string>());
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar()) {
        return InvalidArgumentError(where + ": list items must be scalars");
      }
      values.push_back(item.as<std::string>());
    }
  } else if (node.IsNull()) {
    return Status::Ok();
  } else {
    return InvalidArgumentError(where + ": expected a value or a list");
  }
  try {
    opt->clear();
    for (const auto& v : values) opt->add_result(v);
    opt->run_callback();
  } catch (const CLI::Error& e) {
    return InvalidArgumentError(where + ": " + e.what());
  }
  return Status::Ok();
}

// Walks "a.b" sections down from the root; a missing section is an empty node.
YAML::Node FindSection(const YAML::Node& root, const std::string& section) {
  // yaml-cpp's operator= writes through to the referenced node; reset() rebinds.
  YAML::Node node;
  node.reset(root);
  size_t start = 0;
  while (start <= section.size()) {
    size_t dot = section.find('.', start);
    std::string part = section.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node.IsMap() || !node[part]) return YAML::Node();
    YAML::Node child = node[part];
    node.reset(child);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node;
}

}  // namespace

Status ApplyConfigFile(const std::string& path, const std::string& section, CLI::App* command) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFoundError("config file " + path + " cannot be read");
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("config file " + path + ": " + e.what());
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return InvalidArgumentError("config file " + path + ": top level must be a map");

  const YAML::Node own = FindSection(root, section);
  if (own && !own.IsNull() && !own.IsMap()) {
    return InvalidArgumentError("config file " + path + ": section " + section + " must be a map");
  }

  std::set<std::string> known;
  for (CLI::Option* opt : command->get_options()) {
    if (opt->get_lnames().empty() || opt->count() > 0) {
      if (!opt->get_lnames().empty()) known.insert(KeyForOption(opt));
      continue;  // the command line wins
    }
    std::string key = KeyForOption(opt);
    known.insert(key);
    if (key == "config" || key == "help") continue;
    YAML::Node value;
    std::string where;
    if (own && own.IsMap() && own[key]) {
      value.reset(own[key]);
      where = path + ": " + section + "." + key;
    } else if (root[key] && !root[key].IsMap()) {
      value.reset(root[key]);
      where = path + ": " + key;
    } else {
      continue;
    }
    FURROW_RETURN_IF_ERROR(ApplyValue(opt, value, where));
  }
  if (own && own.IsMap()) {
    for (const auto& kv : own) {
      std::string key = kv.first.as<std::string>();
      if (kv.second.IsMap()) continue;  // a nested command's section
      if (!known.count(key)) {
        return InvalidArgumentError("config file " + path + ": " + section + "." + key +
                                    " is not an option of this command");
      }
    }
  }
  return Status::Ok();
}

}  // namespace furrow::app
