export { contactChange } from './contact-change';
