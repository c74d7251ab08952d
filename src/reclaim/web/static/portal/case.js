// The case page: the "add more" form hashes files on this device like the report form.

import { enhanceFilePicker } from "./files.js";

const picker = document.querySelector("form[data-add-items] [data-file-picker]");
if (picker) enhanceFilePicker(picker);
