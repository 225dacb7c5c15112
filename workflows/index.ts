export { contactChange } from './contact-change';
export { contactMove } from './contact-move';
