// The person picker (#18): a plain text field (employee number or e-mail) that, with script,
// suggests people by name, e-mail, employee number or pinyin initials ("wl" finds 王磊) from
// /people/search/. An ARIA combobox: arrow keys move, Enter picks, Escape closes.
// No inline scripts: the CSP forbids them; the search URL comes from #person-picker-url.
(() => {
  const source = document.getElementById("person-picker-url");
  const url = source instanceof HTMLElement ? source.dataset.url : null;
  if (!url) {
    return;
  }
  let counter = 0;
  for (const input of document.querySelectorAll("input[data-person-picker]")) {
    if (input instanceof HTMLInputElement) {
      attach(input, (counter += 1));
    }
  }

  function attach(input, n) {
    const list = document.createElement("ul");
    list.id = `person-picker-list-${n}`;
    list.className = "list-group person-picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.after(list);
    input.parentElement?.classList.add("position-relative");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    let timer = 0;
    let active = -1;
    let asked = "";

    const options = () => Array.from(list.querySelectorAll("[role=option]"));
    const close = () => {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    };
    const highlight = (index) => {
      const all = options();
      all.forEach((o, i) => {
        o.classList.toggle("active", i === index);
        o.setAttribute("aria-selected", String(i === index));
      });
      active = index;
      if (all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      }
    };
    const pick = (option) => {
      input.value = option.dataset.value || "";
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    };
    const show = (results) => {
      list.replaceChildren();
      results.forEach((person, i) => {
        const item = document.createElement("li");
        item.id = `${list.id}-${i}`;
        item.className = "list-group-item list-group-item-action";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.value = person.value;
        const name = document.createElement("strong");
        name.textContent = person.name;
        const detail = document.createElement("small");
        detail.className = "text-secondary ms-2";
        detail.textContent = [person.employee_no, person.department, person.email]
          .filter(Boolean)
          .join(" · ");
        item.append(name, detail);
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          pick(item);
        });
        list.append(item);
      });
      list.hidden = results.length === 0;
      input.setAttribute("aria-expanded", String(!list.hidden));
      active = -1;
    };
    const search = async () => {
      const q = input.value.trim();
      if (q.length < 1 || q === asked) {
        return;
      }
      asked = q;
      try {
        const response = await fetch(`${url}?q=${encodeURIComponent(q)}`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (response.ok && input.value.trim() === q) {
          show((await response.json()).results || []);
        }
      } catch {
        close(); // offline or refused: the field still takes a number or an e-mail
      }
    };
    input.addEventListener("input", () => {
      window.clearTimeout(timer);
      if (!input.value.trim()) {
        asked = "";
        close();
        return;
      }
      timer = window.setTimeout(search, 200);
    });
    input.addEventListener("keydown", (event) => {
      const all = options();
      if (list.hidden || all.length === 0) {
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + all.length) % all.length);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        pick(all[active]);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", () => window.setTimeout(close, 100));
  }
})();
